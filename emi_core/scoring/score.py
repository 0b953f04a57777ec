"""Score a submission against a ground truth: validate, align by ``Filename``, Pearson per emotion."""

from __future__ import annotations

from emi_core.scoring.report import ScoreReport, score_arrays
from emi_core.scoring.table import Source
from emi_core.scoring.truth import GroundTruth, load_ground_truth
from emi_core.scoring.validate import ValidationResult, validate_submission


def score_submission(pred: Source | ValidationResult, truth: Source | GroundTruth) -> ScoreReport:
    """Validate ``pred`` against ``truth`` and return its :class:`ScoreReport`.

    Both may be a path or raw bytes; ``truth`` may be a loaded :class:`GroundTruth` and ``pred`` a
    :class:`ValidationResult` obtained with that same ground truth. Row order never matters.
    Raises :class:`~emi_core.scoring.problems.SubmissionError` (every problem of the submission) or
    :class:`~emi_core.scoring.problems.GroundTruthError`.
    """
    truth = load_ground_truth(truth)
    if isinstance(pred, ValidationResult):
        if pred.ok and pred.truth is not truth:
            raise ValueError("the ValidationResult was not validated against this ground truth")
        result = pred
    else:
        result = validate_submission(pred, truth)
    return score_arrays(result.aligned_values(), truth.values)
