"""Validate a submission CSV, with or without the ground truth, reporting every problem at once."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emi_core.scoring.cells import match_ids
from emi_core.scoring.problems import Problem, SubmissionError
from emi_core.scoring.table import DEFAULT_MAX_BYTES, DEFAULT_MAX_ROWS, Source, read_source, read_table
from emi_core.scoring.truth import GroundTruth


@dataclass(frozen=True, repr=False)
class ValidationResult:
    """The outcome of :func:`validate_submission`.

    ``problems`` lists what is wrong, in reading order (empty when valid): the first
    :data:`~emi_core.scoring.problems.MAX_KEPT_PROBLEMS` of them; ``n_problems`` counts all. When
    valid, ``ids`` are the ``Filename`` strings in file order and ``values`` the (n, 6) float64 predictions in
    :data:`~emi_core.emotions.EMOTIONS` order; ``truth_rows`` maps each row to its ground-truth row
    when the submission was checked against a ground truth.
    """

    problems: tuple[Problem, ...]
    n_rows: int
    ids: tuple[str, ...] | None = None
    values: np.ndarray | None = None
    truth: GroundTruth | None = None
    truth_rows: np.ndarray | None = None
    n_problems: int = 0

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def raise_for_problems(self) -> None:
        """Raise :class:`~emi_core.scoring.problems.SubmissionError` listing every problem, if any."""
        if self.problems:
            raise SubmissionError(self.problems, self.n_problems)

    def aligned_values(self) -> np.ndarray:
        """Predictions reordered to the ground truth's row order (row order of the file never matters)."""
        self.raise_for_problems()
        if self.truth is None or self.truth_rows is None:
            raise ValueError("aligned_values() needs a submission validated against a ground truth")
        aligned = np.empty_like(self.values)
        aligned[self.truth_rows] = self.values
        return aligned

    def __repr__(self) -> str:
        return f"ValidationResult(n_rows={self.n_rows}, problems={self.n_problems})"


def is_truth_copy(result: ValidationResult) -> bool:
    """Whether a valid submission holds exactly its ground truth's values (in any row order): the
    ground-truth file itself, never a prediction to score or store."""
    return result.ok and result.truth is not None and bool(np.array_equal(result.aligned_values(), result.truth.values))


def validate_submission(
    source: Source,
    truth: GroundTruth | None = None,
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    reveal_ids: bool = True,
) -> ValidationResult:
    """Check a submission CSV (a path, or its raw bytes) and return every problem found.

    Without ``truth`` only the format is checked (what a team runs before submitting). With it, ids
    must match the ground truth's ids exactly: none missing, unknown or repeated. Problems name the
    CSV line and column; they quote the submission's own cells but never ground-truth values.
    ``reveal_ids=False`` (a hidden split) turns unknown and missing ids into counts: no message
    names a ground-truth id.
    This function does not raise for problems in the file: see
    :meth:`ValidationResult.raise_for_problems`.
    """
    raw, problems = read_source(source, max_bytes, name_paths=True)
    if raw is None:
        return ValidationResult(tuple(problems), 0, n_problems=len(problems))
    table = read_table(raw, reveal_values=True, max_rows=max_rows)
    rows = None
    if truth is not None and table.ids is not None:
        complete = len(table.ids) == table.n_rows  # rows of the wrong width (or over the limit) hide their ids
        rows = match_ids(
            table.ids, table.lines, truth.index, table.problems, report_missing=complete, reveal_ids=reveal_ids
        )
    if table.problems:
        return ValidationResult(tuple(table.problems.kept()), table.n_rows, n_problems=table.problems.total)
    return ValidationResult((), table.n_rows, table.ids, table.values, truth, rows)
