"""The score of a submission: Pearson's r per emotion and their mean, as a typed report."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from emi_core.emotions import EMOTIONS
from emi_core.scoring.pearson import constant_columns, pearson_columns
from emi_core.scoring.problems import GroundTruthError, Problem


@dataclass(frozen=True)
class ScoreReport:
    """Pearson's r per emotion (challenge order), their mean, the number of videos and any warnings."""

    mean_pearson: float
    per_emotion: dict[str, float]
    n: int
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        """JSON-ready form: ``{"mean_pearson", "per_emotion", "n", "warnings"}``."""
        return {
            "mean_pearson": self.mean_pearson,
            "per_emotion": dict(self.per_emotion),
            "n": self.n,
            "warnings": list(self.warnings),
        }


def score_arrays(pred: np.ndarray, truth: np.ndarray) -> ScoreReport:
    """Score aligned (n, 6) predictions against (n, 6) ground truth, rows in the same order.

    A constant prediction column has no defined r: it scores 0.0 and adds a warning. A constant
    ground-truth column raises :class:`~emi_core.scoring.problems.GroundTruthError`.
    """
    truth_constant = constant_columns(truth)
    if truth_constant.any():
        raise GroundTruthError(
            Problem("all values are equal, so Pearson's r is undefined", column=emotion)
            for emotion, constant in zip(EMOTIONS, truth_constant, strict=True)
            if constant
        )
    r = pearson_columns(pred, truth)
    warnings = tuple(
        f"predictions for {emotion!r} are constant: Pearson's r is undefined and scored 0.0"
        for emotion, value in zip(EMOTIONS, r, strict=True)
        if math.isnan(value)
    )
    r = np.nan_to_num(r, nan=0.0)
    per_emotion = {emotion: float(value) for emotion, value in zip(EMOTIONS, r, strict=True)}
    return ScoreReport(math.fsum(per_emotion.values()) / len(EMOTIONS), per_emotion, int(pred.shape[0]), warnings)
