"""The EMI prior: the offline default model — heuristic, not trained on Hume-Vidmimic2."""

from emi_core.models.prior.model import MODEL_CARD, PRIOR_NAME, EMIPrior

__all__ = ["MODEL_CARD", "PRIOR_NAME", "EMIPrior"]
