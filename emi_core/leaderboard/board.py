"""The leaderboard: submit a CSV, rank the teams, export everything.

Example::

    board = Leaderboard("submissions", ground_truth={"val": "/secure/val_truth.csv"})
    entry = board.submit("Team A", "val", "predictions.csv", "ResNet18 + AU + Wav2Vec2")
    for ranked in board.ranking("val"):
        print(ranked.rank, ranked.entry.team, ranked.entry.mean_pearson, ranked.p_value)
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from emi_core.atomic import write_bytes_atomic
from emi_core.leaderboard import db
from emi_core.leaderboard.bootstrap import bootstrap_means, confidence_interval, paired_p_value
from emi_core.leaderboard.config import check_split, default_daily_limit, default_store_dir, ground_truth_from_env
from emi_core.leaderboard.entry import REJECTED, SCORED, Entry, RankedEntry
from emi_core.leaderboard.errors import DailyLimitReached, DuplicateSubmission, LeaderboardError, SubmissionRejected
from emi_core.leaderboard.export import write_export
from emi_core.leaderboard.teams import normalize_team_name, team_key
from emi_core.scoring.problems import Problem, SubmissionError
from emi_core.scoring.report import score_arrays
from emi_core.scoring.table import DEFAULT_MAX_BYTES, read_source
from emi_core.scoring.truth import GroundTruth, load_ground_truth
from emi_core.scoring.validate import validate_submission

DESCRIPTION_MAX_LENGTH = 500
STORED_REASONS_MAX = 200
"""At most this many problems are stored as the reasons of a rejected entry (the error carries all)."""
FILES_FOLDER = "files"


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Leaderboard:
    """A leaderboard stored in ``store_dir`` (SQLite database + ``files/`` with each submitted CSV).

    ``store_dir`` defaults to ``$EMI_SUBMISSIONS_DIR`` or ``./submissions``; ``ground_truth`` maps a
    split to its CSV path (else ``$EMI_GROUND_TRUTH_VAL`` / ``$EMI_GROUND_TRUTH_TEST``), read in
    place and never copied; ``daily_limit`` defaults to ``$EMI_DAILY_LIMIT`` or 5; ``clock`` returns
    the current UTC time (for tests). Safe to use from several processes at once.
    """

    def __init__(
        self,
        store_dir: str | os.PathLike | None = None,
        *,
        ground_truth: Mapping[str, str | os.PathLike] | None = None,
        daily_limit: int | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ):
        self.store_dir = Path(store_dir) if store_dir is not None else default_store_dir()
        self.files_dir = self.store_dir / FILES_FOLDER
        self.db_path = self.store_dir / db.DATABASE_NAME
        self.daily_limit = daily_limit if daily_limit is not None else default_daily_limit()
        if self.daily_limit < 1:
            raise LeaderboardError(f"the daily limit must be at least 1, got {self.daily_limit}")
        self._truth_paths = {check_split(split): Path(path) for split, path in (ground_truth or {}).items()}
        self._truth_cache: dict[str, tuple[tuple, GroundTruth]] = {}
        self._clock = clock
        self.files_dir.mkdir(parents=True, exist_ok=True)
        with db.connect(self.db_path) as conn:
            db.migrate(conn)

    def submit(self, team: str, split: str, csv_path: str | os.PathLike, description: str = "") -> Entry:
        """Validate, score and store a submission; return its :class:`Entry`.

        Raises :class:`SubmissionRejected` (stored as ``rejected``, with every problem) when the file
        is invalid (rejected files never count towards the daily limit, which applies to valid files
        only); :class:`DuplicateSubmission`, :class:`DailyLimitReached`,
        :class:`InvalidTeamName`, :class:`LeaderboardError` or
        :class:`~emi_core.scoring.problems.SubmissionError` (file missing or too large) when the
        submission is refused and nothing is stored.
        """
        team = normalize_team_name(team)
        split = check_split(split)
        description = _check_description(description)
        truth = self.ground_truth(split)
        raw, problems = read_source(csv_path, DEFAULT_MAX_BYTES, name_paths=True)
        if raw is None:
            raise SubmissionError(problems)
        sha256 = hashlib.sha256(raw).hexdigest()
        now = self._clock().astimezone(timezone.utc)
        result = validate_submission(raw, truth)
        with db.connect(self.db_path) as conn:  # refuse early, before the costly bootstrap; re-checked on insert
            db.retry_busy(lambda: self._check_allowed(conn, team, split, sha256, now, counts=result.ok))
        record = {
            "team": team,
            "team_key": team_key(team),
            "submitted_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "split": split,
            "sha256": sha256,
            "stored_file": self._store_file(raw, sha256),
            "n_rows": result.n_rows,
            "description": description,
            "truth_sha256": truth.sha256,
        }
        if result.ok:
            record.update(_score_fields(result.aligned_values(), truth))
        else:
            record.update(status=REJECTED, reasons=json.dumps(_stored_reasons(result.problems)))

        def insert(conn: sqlite3.Connection) -> int:
            self._check_allowed(conn, team, split, sha256, now, counts=result.ok)
            columns = ", ".join(record)
            marks = ", ".join("?" for _ in record)
            return conn.execute(
                f"INSERT INTO submissions ({columns}) VALUES ({marks})", tuple(record.values())
            ).lastrowid

        with db.connect(self.db_path) as conn:
            entry = self._entry(conn, db.write(conn, insert))
        if not result.ok:
            raise SubmissionRejected(result.problems, entry)
        return entry

    def ground_truth(self, split: str) -> GroundTruth:
        """The ground truth of ``split``, read in place (re-read when the file changes)."""
        path = self._truth_paths.get(check_split(split)) or ground_truth_from_env(split)
        try:
            stat = path.stat()
        except OSError:
            raise LeaderboardError(f"the ground truth of split {split!r} cannot be read") from None
        stamp = (str(path), stat.st_mtime_ns, stat.st_size)
        cached = self._truth_cache.get(split)
        if cached is None or cached[0] != stamp:
            cached = (stamp, load_ground_truth(path))
            self._truth_cache[split] = cached
        return cached[1]

    def entry(self, entry_id: int) -> Entry:
        """The stored entry with this id."""
        with db.connect(self.db_path) as conn:
            return self._entry(conn, entry_id)

    def entries(self, split: str | None = None) -> list[Entry]:
        """Every stored submission (scored and rejected), oldest first, optionally of one split."""
        query = "SELECT * FROM submissions" + (" WHERE split = ?" if split else "") + " ORDER BY id"
        params = (check_split(split),) if split else ()
        with db.connect(self.db_path) as conn:
            rows = db.retry_busy(lambda: conn.execute(query, params).fetchall())
        return [Entry.from_row(row) for row in rows]

    def ranking(self, split: str = "val", all_submissions: bool = False) -> list[RankedEntry]:
        """Scored submissions of ``split``, best first: each team's best one, or all of them.

        Ties keep the earlier submission first and share a rank. Each entry carries the paired
        bootstrap p-value of its gap to the leader (``None`` for the leader).
        """
        query = "SELECT * FROM submissions WHERE split = ? AND status = ? ORDER BY mean_pearson DESC, submitted_at, id"
        with db.connect(self.db_path) as conn:
            rows = db.retry_busy(lambda: conn.execute(query, (check_split(split), SCORED)).fetchall())
        if not all_submissions:
            rows = _best_per_team(rows)
        ranked: list[RankedEntry] = []
        for position, row in enumerate(rows):
            tied = ranked and ranked[-1].entry.mean_pearson == row["mean_pearson"]
            rank = ranked[-1].rank if tied else position + 1
            p_value = None if position == 0 else _p_value(rows[0], row)
            ranked.append(RankedEntry(rank, Entry.from_row(row), p_value))
        return ranked

    def export_csv(self, path: str | os.PathLike, split: str | None = None) -> int:
        """Write every submission (optionally of one split) to a spreadsheet-safe CSV; return the row count."""
        return write_export(path, self.entries(split))

    def _entry(self, conn: sqlite3.Connection, entry_id: int) -> Entry:
        row = db.retry_busy(lambda: conn.execute("SELECT * FROM submissions WHERE id = ?", (entry_id,)).fetchone())
        if row is None:
            raise LeaderboardError(f"no submission with id {entry_id}")
        return Entry.from_row(row)

    def _check_allowed(
        self, conn: sqlite3.Connection, team: str, split: str, sha256: str, now: datetime, *, counts: bool
    ) -> None:
        """Refuse a file this team already sent to this split, and (if ``counts``) one over the daily limit."""
        key = team_key(team)
        earlier = conn.execute(
            "SELECT id, submitted_at, status FROM submissions WHERE team_key = ? AND split = ? AND sha256 = ? "
            "ORDER BY id LIMIT 1",
            (key, split, sha256),
        ).fetchone()
        if earlier is not None:
            raise DuplicateSubmission(
                f"team {team!r} already submitted this file to {split!r} as submission #{earlier['id']} "
                f"({earlier['status']}, {earlier['submitted_at']})",
                earlier["id"],
            )
        if not counts:
            return
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        used = conn.execute(
            "SELECT COUNT(*) FROM submissions WHERE team_key = ? AND split = ? AND status = ? "
            "AND submitted_at >= ? AND submitted_at < ?",
            (key, split, SCORED, f"{day:%Y-%m-%dT%H:%M:%SZ}", f"{day + timedelta(days=1):%Y-%m-%dT%H:%M:%SZ}"),
        ).fetchone()[0]
        if used >= self.daily_limit:
            raise DailyLimitReached(
                f"team {team!r} has used its {self.daily_limit} scored submissions to {split!r} for "
                f"{day:%Y-%m-%d} (UTC); rejected files do not count; try again after midnight UTC"
            )

    def _store_file(self, raw: bytes, sha256: str) -> str:
        """Keep a copy of a submitted CSV as ``files/<sha256>.csv`` (written atomically); return its relative path."""
        relative = f"{FILES_FOLDER}/{sha256}.csv"
        target = self.store_dir / relative
        if not target.exists():
            write_bytes_atomic(target, raw, durable=True)
        return relative


def _score_fields(aligned: np.ndarray, truth: GroundTruth) -> dict:
    """Database fields of a scored submission: per-emotion r, mean, bootstrap CI and replicates."""
    report = score_arrays(aligned, truth.values)
    replicates = bootstrap_means(aligned, truth.values)
    low, high = confidence_interval(replicates)
    return {
        "status": SCORED,
        "reasons": json.dumps(list(report.warnings)),
        "per_emotion": json.dumps(report.per_emotion),
        "mean_pearson": report.mean_pearson,
        "ci_low": low,
        "ci_high": high,
        "bootstrap": replicates.astype("<f8").tobytes(),
    }


def _best_per_team(rows: list[sqlite3.Row]) -> list[sqlite3.Row]:
    """The first (best) row of each team from rows sorted best first."""
    seen: set[str] = set()
    best = []
    for row in rows:
        if row["team_key"] not in seen:
            seen.add(row["team_key"])
            best.append(row)
    return best


def _p_value(leader: sqlite3.Row, row: sqlite3.Row) -> float | None:
    """Paired bootstrap p-value of ``row`` against ``leader``, when both have comparable replicates."""
    if leader["bootstrap"] is None or row["bootstrap"] is None or leader["truth_sha256"] != row["truth_sha256"]:
        return None
    return paired_p_value(np.frombuffer(leader["bootstrap"], "<f8"), np.frombuffer(row["bootstrap"], "<f8"))


def _stored_reasons(problems: Sequence[Problem]) -> list[str]:
    """The reasons kept with a rejected entry: the first :data:`STORED_REASONS_MAX` problems and a count."""
    reasons = [str(problem) for problem in problems[:STORED_REASONS_MAX]]
    if len(problems) > STORED_REASONS_MAX:
        reasons.append(f"... and {len(problems) - STORED_REASONS_MAX} more problems")
    return reasons


def _check_description(description: str | None) -> str:
    """Trim a description and check it is one line of at most :data:`DESCRIPTION_MAX_LENGTH` characters."""
    text = (description or "").strip()
    if len(text) > DESCRIPTION_MAX_LENGTH:
        raise LeaderboardError(f"description has {len(text)} characters, more than {DESCRIPTION_MAX_LENGTH}")
    if any(unicodedata.category(character) == "Cc" for character in text):
        raise LeaderboardError("description must be one line of text without control characters")
    return text
