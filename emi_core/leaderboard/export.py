"""CSV export of the leaderboard that is safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable

from emi_core.emotions import EMOTIONS
from emi_core.leaderboard.entry import Entry

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

EXPORT_COLUMNS: tuple[str, ...] = (
    "id",
    "split",
    "team",
    "submitted_at",
    "status",
    "mean_pearson",
    "ci95_low",
    "ci95_high",
    *EMOTIONS,
    "n_rows",
    "sha256",
    "description",
    "reasons",
    "warnings",
)


def neutralise(text: str) -> str:
    """Prefix a text cell with ``'`` when a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


def export_row(entry: Entry) -> list:
    """The export cells of one entry: numbers stay numbers, every text cell is neutralised."""
    per_emotion = entry.per_emotion or {}
    low, high = entry.ci95 or (None, None)
    cells = [
        entry.id,
        entry.split,
        entry.team,
        entry.submitted_at,
        entry.status,
        entry.mean_pearson,
        low,
        high,
        *(per_emotion.get(emotion) for emotion in EMOTIONS),
        entry.n_rows,
        entry.sha256,
        entry.description,
        "; ".join(entry.reasons),
        "; ".join(entry.warnings),
    ]
    return [neutralise(cell) if isinstance(cell, str) else ("" if cell is None else cell) for cell in cells]


def write_export(path: str | os.PathLike, entries: Iterable[Entry]) -> int:
    """Write ``entries`` as CSV (UTF-8 with BOM so that spreadsheets detect it); return the row count."""
    count = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(EXPORT_COLUMNS)
        for entry in entries:
            writer.writerow(export_row(entry))
            count += 1
    return count
