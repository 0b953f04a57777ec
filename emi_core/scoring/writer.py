"""Write predictions as a challenge CSV (``Filename`` + six emotions), exactly as the scorer reads it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from emi_core.emotions import CSV_HEADER_LINE, EMOTIONS


def submission_text(ids: Sequence[str], values: np.ndarray) -> str:
    """Return the CSV text for ``ids`` (5-digit strings) and (n, 6) values in challenge order.

    Values are written with ``repr`` so that reading the file back gives the same float64 numbers.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.shape != (len(ids), len(EMOTIONS)):
        raise ValueError(f"values must have shape ({len(ids)}, {len(EMOTIONS)}), got {values.shape}")
    rows = (f"{cell}," + ",".join(map(repr, row)) for cell, row in zip(ids, values.tolist(), strict=True))
    return "\n".join((CSV_HEADER_LINE, *rows)) + "\n"


def write_submission(path: str | os.PathLike, ids: Sequence[str], values: np.ndarray) -> Path:
    """Write a challenge CSV to ``path`` (UTF-8, comma-separated) and return the path."""
    path = Path(path)
    path.write_text(submission_text(ids, values), encoding="utf-8", newline="")
    return path
