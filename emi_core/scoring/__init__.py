"""Scoring of EMI challenge submissions: strict validation, exact Pearson's r, typed reports.

Typical use::

    from emi_core.scoring import load_ground_truth, score_submission, validate_submission

    result = validate_submission("predictions.csv")      # format only; result.problems lists all
    report = score_submission("predictions.csv", "truth.csv")  # raises SubmissionError if invalid
    report.mean_pearson, report.per_emotion, report.n, report.warnings
"""

from emi_core.scoring.codalab import CodalabError, run_codalab
from emi_core.scoring.pearson import pearson, pearson_columns
from emi_core.scoring.problems import GroundTruthError, Problem, ProblemsError, SubmissionError, format_problems
from emi_core.scoring.report import ScoreReport, score_arrays
from emi_core.scoring.score import score_submission
from emi_core.scoring.table import DEFAULT_MAX_BYTES, DEFAULT_MAX_ROWS
from emi_core.scoring.truth import GroundTruth, load_ground_truth
from emi_core.scoring.validate import ValidationResult, validate_submission
from emi_core.scoring.writer import submission_text, write_submission

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ROWS",
    "CodalabError",
    "GroundTruth",
    "GroundTruthError",
    "Problem",
    "ProblemsError",
    "ScoreReport",
    "SubmissionError",
    "ValidationResult",
    "format_problems",
    "load_ground_truth",
    "pearson",
    "pearson_columns",
    "run_codalab",
    "score_arrays",
    "score_submission",
    "submission_text",
    "validate_submission",
    "write_submission",
]
