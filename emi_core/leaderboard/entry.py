"""Leaderboard entries as typed records (what the app and the CLI show)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

from emi_core.emotions import EMOTIONS

SCORED = "scored"
REJECTED = "rejected"


@dataclass(frozen=True)
class Entry:
    """One stored submission. Score fields are ``None`` for a rejected one, whose ``reasons`` say why;
    a scored one may carry ``warnings`` (e.g. a constant prediction column scored 0.0).

    ``submitted_at`` is UTC in ISO 8601 (``2024-06-17T12:34:56Z``); ``file`` is the stored copy of
    the CSV relative to the store folder (scored files only, in canonical form); ``ci95`` is the 95%
    bootstrap interval of ``mean_pearson``. On a hidden split ``mean_pearson``, ``ci95`` and
    ``per_emotion`` are those of the public part; the ``private_*`` fields are filled only once the
    phase is closed. ``final`` marks a pick for the final ranking; ``account`` says who submitted.
    """

    id: int
    team: str
    split: str
    submitted_at: str
    status: str
    sha256: str
    n_rows: int
    file: str | None
    description: str = ""
    mean_pearson: float | None = None
    ci95: tuple[float, float] | None = None
    per_emotion: dict[str, float] | None = None
    reasons: tuple[str, ...] = field(default=())
    warnings: tuple[str, ...] = field(default=())
    account: str = ""
    final: bool = False
    private_mean_pearson: float | None = None
    private_ci95: tuple[float, float] | None = None
    private_per_emotion: dict[str, float] | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row, reveal_private: bool = False) -> Entry:
        """Build an entry from a row of the ``submissions`` table (private scores only if ``reveal_private``)."""
        per_emotion = _per_emotion(row["per_emotion"])
        ci95 = (row["ci_low"], row["ci_high"]) if row["ci_low"] is not None else None
        private = {}
        if reveal_private and row["private_mean"] is not None:
            private = {
                "private_mean_pearson": row["private_mean"],
                "private_ci95": (row["private_ci_low"], row["private_ci_high"]),
                "private_per_emotion": _per_emotion(row["private_per_emotion"]),
            }
        notes = tuple(json.loads(row["reasons"]))  # why it was rejected, or warnings of its score
        return cls(
            id=row["id"],
            team=row["team"],
            split=row["split"],
            submitted_at=row["submitted_at"],
            status=row["status"],
            sha256=row["sha256"],
            n_rows=row["n_rows"],
            file=row["stored_file"],
            description=row["description"],
            mean_pearson=row["mean_pearson"],
            ci95=ci95,
            per_emotion=per_emotion,
            reasons=notes if row["status"] == REJECTED else (),
            warnings=notes if row["status"] == SCORED else (),
            account=row["account"],
            final=bool(row["final"]),
            **private,
        )

    def to_dict(self) -> dict:
        """JSON-ready form of the entry."""
        return {
            "id": self.id,
            "team": self.team,
            "split": self.split,
            "submitted_at": self.submitted_at,
            "status": self.status,
            "mean_pearson": self.mean_pearson,
            "ci95": list(self.ci95) if self.ci95 else None,
            "per_emotion": dict(self.per_emotion) if self.per_emotion else None,
            "n_rows": self.n_rows,
            "sha256": self.sha256,
            "file": self.file,
            "description": self.description,
            "reasons": list(self.reasons),
            "warnings": list(self.warnings),
            "final": self.final,
            "private_mean_pearson": self.private_mean_pearson,
            "private_ci95": list(self.private_ci95) if self.private_ci95 else None,
            "private_per_emotion": dict(self.private_per_emotion) if self.private_per_emotion else None,
        }


def _per_emotion(text: str | None) -> dict[str, float] | None:
    values = json.loads(text) if text else None
    return {emotion: values[emotion] for emotion in EMOTIONS} if values else None


@dataclass(frozen=True)
class RankedEntry:
    """A scored entry in a ranking, with its paired bootstrap p-value against the leader.

    ``p_value`` is ``None`` for the leader itself, and when the two entries were not scored
    against the same ground truth (or predate bootstrap replicates). ``ranked_on`` is ``all`` (the
    whole split), ``public`` (a hidden split during its phase) or ``private`` (the final ranking of a
    closed hidden split).
    """

    rank: int
    entry: Entry
    p_value: float | None
    ranked_on: str = "all"

    @property
    def score(self) -> float:
        """The mean Pearson's r this entry is ranked by."""
        return self.entry.private_mean_pearson if self.ranked_on == "private" else self.entry.mean_pearson

    def to_dict(self) -> dict:
        """JSON-ready form: the rank, the entry's fields, ``p_value_vs_leader`` and ``ranked_on``."""
        ranking = {"p_value_vs_leader": self.p_value, "ranked_on": self.ranked_on}
        return {"rank": self.rank, **self.entry.to_dict(), **ranking}
