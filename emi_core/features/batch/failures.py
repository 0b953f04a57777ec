"""``{cache}/failures.csv``: the videos that could not be extracted (``id,path,error``)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from emi_core.atomic import atomic_path

FAILURES_FILE = "failures.csv"
FAILURE_COLUMNS = ("id", "path", "error")


@dataclass(frozen=True)
class Failure:
    """A video that could not be extracted: its id, file (``""`` if none) and one-line reason."""

    id: str
    path: str
    error: str


def read_failures(path: Path) -> list[Failure]:
    """The rows of a ``failures.csv`` (empty if there is none)."""
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return [Failure(row["id"], row["path"], row["error"]) for row in csv.DictReader(handle)]


def record_failures(path: Path, attempted: Sequence[str], failures: Sequence[Failure]) -> None:
    """Rewrite ``path``: earlier rows of ids not in this run, then this run's failures (removed if none)."""
    done = set(attempted)
    rows = [f for f in read_failures(path) if f.id not in done] + list(failures)
    if not rows:
        path.unlink(missing_ok=True)
        return
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(FAILURE_COLUMNS)
        writer.writerows((f.id, f.path, f.error) for f in rows)
