"""Ground-truth files: read once, checked strictly, never quoted in any message."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from emi_core.emotions import EMOTIONS
from emi_core.scoring.problems import GroundTruthError, Problem
from emi_core.scoring.table import DEFAULT_MAX_BYTES, DEFAULT_MAX_ROWS, Source, read_source, read_table


@dataclass(frozen=True, repr=False)
class GroundTruth:
    """Ground-truth intensities of one split: ``ids[i]`` has the six values ``values[i]``.

    Its ``repr`` shows only the row count, so that values never end up in logs or tracebacks.
    """

    ids: tuple[str, ...]
    values: np.ndarray
    sha256: str
    index: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", {cell: row for row, cell in enumerate(self.ids)})
        self.values.setflags(write=False)

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return f"GroundTruth(n={len(self)})"


def load_ground_truth(
    source: Source | GroundTruth, *, max_bytes: int = DEFAULT_MAX_BYTES, max_rows: int = DEFAULT_MAX_ROWS
) -> GroundTruth:
    """Read and check a ground-truth CSV (a path or its bytes); a :class:`GroundTruth` is returned as is.

    Raises :class:`~emi_core.scoring.problems.GroundTruthError` listing every problem; messages
    name lines and columns but never values or the file's path. Each emotion column must vary
    (Pearson's r is undefined against a constant) and there must be at least two rows.
    """
    if isinstance(source, GroundTruth):
        return source
    raw, problems = read_source(source, max_bytes, name_paths=False)
    if raw is None:
        raise GroundTruthError(problems)
    table = read_table(raw, reveal_values=False, max_rows=max_rows)
    if table.problems:
        raise GroundTruthError(table.problems.kept(), table.problems.total)
    if table.n_rows < 2:
        raise GroundTruthError([Problem("needs at least 2 rows: Pearson's r is undefined on fewer")])
    constant = [
        Problem("all values are equal, so Pearson's r is undefined", column=emotion)
        for emotion, column in zip(EMOTIONS, table.values.T, strict=True)
        if column.min() == column.max()
    ]
    if constant:
        raise GroundTruthError(constant)
    return GroundTruth(tuple(table.ids), table.values, hashlib.sha256(raw).hexdigest())
