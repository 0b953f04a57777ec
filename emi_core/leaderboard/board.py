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
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from emi_core.atomic import write_bytes_atomic
from emi_core.emotions import EMOTIONS
from emi_core.leaderboard import db
from emi_core.leaderboard.bootstrap import (
    bootstrap_means,
    bootstrap_pearson,
    confidence_interval,
    paired_p_value,
    two_sided_p_value,
)
from emi_core.leaderboard.config import (
    check_split,
    default_daily_limit,
    default_final_picks,
    default_hidden_splits,
    default_store_dir,
    ground_truth_from_env,
)
from emi_core.leaderboard.entry import REJECTED, SCORED, Entry, RankedEntry
from emi_core.leaderboard.errors import DailyLimitReached, DuplicateSubmission, LeaderboardError, SubmissionRejected
from emi_core.leaderboard.export import write_export
from emi_core.leaderboard.identity import IdentityError, Member, team_record, token_matches, token_selector
from emi_core.leaderboard.partition import public_mask
from emi_core.leaderboard.sync import Journal, StoreSync, store_dataset
from emi_core.leaderboard.teams import normalize_team_name, team_key
from emi_core.scoring.problems import Problem, SubmissionError
from emi_core.scoring.report import score_arrays
from emi_core.scoring.table import DEFAULT_MAX_BYTES, read_source
from emi_core.scoring.truth import GroundTruth, load_ground_truth
from emi_core.scoring.validate import ValidationResult, is_truth_copy, validate_submission
from emi_core.scoring.writer import submission_text

DESCRIPTION_MAX_LENGTH = 500
STORED_REASONS_MAX = 200
"""At most this many problems are stored as the reasons of a rejected entry (the error carries all)."""
FILES_FOLDER = "files"
ORPHAN_AGE_S = 3600.0
"""Stored files that no entry refers to (a process killed between writing a file and its row) are
swept when the store is opened, once they are older than this (younger ones may be in flight)."""


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Leaderboard:
    """A leaderboard stored in ``store_dir`` (SQLite database + ``files/`` with each submitted CSV).

    ``store_dir`` defaults to ``$EMI_SUBMISSIONS_DIR`` or ``./submissions``; ``ground_truth`` maps a
    split to its CSV path (else ``$EMI_GROUND_TRUTH_VAL`` / ``$EMI_GROUND_TRUTH_TEST``), read in
    place and never copied; ``daily_limit`` defaults to ``$EMI_DAILY_LIMIT`` or 5; ``hidden_splits``
    (default ``$EMI_HIDDEN_SPLITS`` or ``test``) are the splits whose labels participants never see:
    they are scored only as counted submissions, on their public part during the phase
    (:mod:`emi_core.leaderboard.partition`); ``final_picks`` (default ``$EMI_FINAL_PICKS`` or 2) is how
    many submissions a team may pick for the final ranking; ``journal`` (default: whether
    ``$EMI_STORE_DATASET`` is set) also records every change in the append-only journal that
    :class:`~emi_core.leaderboard.sync.StoreSync` mirrors; ``clock`` returns the current UTC time
    (for tests). Safe to use from several processes at once.
    """

    def __init__(
        self,
        store_dir: str | os.PathLike | None = None,
        *,
        ground_truth: Mapping[str, str | os.PathLike] | None = None,
        daily_limit: int | None = None,
        hidden_splits: Sequence[str] | None = None,
        final_picks: int | None = None,
        journal: bool | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ):
        self.store_dir = Path(store_dir) if store_dir is not None else default_store_dir()
        self.files_dir = self.store_dir / FILES_FOLDER
        self.db_path = self.store_dir / db.DATABASE_NAME
        self.daily_limit = daily_limit if daily_limit is not None else default_daily_limit()
        if self.daily_limit < 1:
            raise LeaderboardError(f"the daily limit must be at least 1, got {self.daily_limit}")
        self.hidden_splits = (
            frozenset(map(check_split, hidden_splits)) if hidden_splits is not None else default_hidden_splits()
        )
        self.final_picks = final_picks if final_picks is not None else default_final_picks()
        self._truth_paths = {check_split(split): Path(path) for split, path in (ground_truth or {}).items()}
        self._truth_cache: dict[str, tuple[tuple, GroundTruth]] = {}
        self._clock = clock
        self.files_dir.mkdir(parents=True, exist_ok=True)
        with db.connect(self.db_path) as conn:
            db.migrate(conn)
        self._journal = Journal(self.store_dir) if (journal if journal is not None else store_dataset()) else None
        self.sweep_orphans()

    @classmethod
    def from_env(cls, api=None) -> tuple[Leaderboard, StoreSync | None]:
        """The store of ``$EMI_SUBMISSIONS_DIR``; with ``$EMI_STORE_DATASET`` first restored from that
        private dataset and then mirrored to it (the sync is returned, running)."""
        repo_id = store_dataset()
        if repo_id is None:
            return cls(), None
        sync = StoreSync(default_store_dir(), repo_id, api=api)
        sync.restore()
        board = cls(journal=True)
        sync.start()
        return board, sync

    def _record(self, table: str, where: str, params: tuple) -> None:
        """Journal the committed state of some rows (when the store is mirrored)."""
        if self._journal is not None:
            with db.connect(self.db_path) as conn:
                self._journal.rows(table, conn, where, params)

    def is_hidden(self, split: str) -> bool:
        """Whether ``split``'s labels are hidden (scored only as counted submissions, public part shown)."""
        return check_split(split) in self.hidden_splits

    def is_closed(self, split: str) -> bool:
        """Whether the phase of ``split`` was closed (its private ranking is revealed, no more submissions)."""
        with db.connect(self.db_path) as conn:
            query = "SELECT 1 FROM phases WHERE split = ?"
            return db.retry_busy(lambda: conn.execute(query, (check_split(split),)).fetchone()) is not None

    def validate(self, split: str, source: str | os.PathLike | bytes) -> ValidationResult:
        """Check a file for ``split`` without scoring it or storing anything (what anyone may do).

        The ids are matched against the split's ground truth when it is configured; on a hidden
        split unknown and missing ids are only counted, never named.
        """
        try:
            truth = self.ground_truth(split)
        except LeaderboardError:
            truth = None
        return validate_submission(source, truth, reveal_ids=not self.is_hidden(split))

    def submit(
        self, team: str, split: str, csv_path: str | os.PathLike | bytes, description: str = "", *, account: str = "cli"
    ) -> Entry:
        """Validate, score and store a submission; return its :class:`Entry`.

        ``team`` must already be identified (the app resolves it from a token or a sign-in, see
        :meth:`member_for_token`); ``account`` is who submitted. Raises :class:`SubmissionRejected`
        (stored as ``rejected``, with its first problems) when the file is invalid (rejected files
        never count towards the daily limit, which applies to valid files only);
        :class:`DuplicateSubmission`, :class:`DailyLimitReached`, :class:`InvalidTeamName`,
        :class:`LeaderboardError` (also for the ground-truth file itself, or a closed phase) or
        :class:`~emi_core.scoring.problems.SubmissionError` (file missing or too large) when the
        submission is refused and nothing is stored. A scored file is stored in canonical form
        (its ids and values rewritten), so padding costs the store nothing.
        """
        team = normalize_team_name(team)
        split = check_split(split)
        description = _check_description(description)
        truth = self.ground_truth(split)
        self._check_open(split)
        raw, problems = read_source(csv_path, DEFAULT_MAX_BYTES, name_paths=False)
        if raw is None:
            raise SubmissionError(problems)
        result = validate_submission(raw, truth, reveal_ids=not self.is_hidden(split))
        if is_truth_copy(result):
            raise LeaderboardError("refused: this file is the ground truth of the split, not a submission")
        canonical = None
        if result.ok:
            aligned = result.aligned_values()
            canonical = submission_text(result.ids, result.values).encode()
        sha256 = hashlib.sha256(canonical if canonical is not None else raw).hexdigest()
        now = self._clock().astimezone(timezone.utc)
        with db.connect(self.db_path) as conn:  # refuse early, before the costly bootstrap; re-checked on insert
            db.retry_busy(lambda: self._check_allowed(conn, team, split, sha256, now, counts=result.ok))
        record = {
            "team": team,
            "team_key": team_key(team),
            "account": account,
            "submitted_at": _stamp(now),
            "split": split,
            "sha256": sha256,
            "stored_file": self._store_file(canonical, sha256) if canonical is not None else None,
            "n_rows": result.n_rows,
            "description": description,
            "truth_sha256": truth.sha256,
        }
        if result.ok:
            record.update(self._score_fields(split, aligned, truth))
        else:
            record.update(status=REJECTED, reasons=json.dumps(_stored_reasons(result.problems, result.n_problems)))

        def insert(conn: sqlite3.Connection) -> int:
            self._check_open(split, conn)
            self._check_allowed(conn, team, split, sha256, now, counts=result.ok)
            columns = ", ".join(record)
            marks = ", ".join("?" for _ in record)
            return conn.execute(
                f"INSERT INTO submissions ({columns}) VALUES ({marks})", tuple(record.values())
            ).lastrowid

        with db.connect(self.db_path) as conn:
            entry = self._entry(conn, db.write(conn, insert))
        self._record("submissions", "id = ?", (entry.id,))
        if not result.ok:
            raise SubmissionRejected(result.problems, entry, result.n_problems)
        return entry

    def _score_fields(self, split: str, aligned: np.ndarray, truth: GroundTruth) -> dict:
        """Score fields of a valid submission: the whole split, or its public and private parts."""
        if not self.is_hidden(split):
            return _score_fields(aligned, truth.values)
        public = self.public_rows(split)
        private = _score_fields(aligned[~public], truth.values[~public])
        return {
            **_score_fields(aligned[public], truth.values[public]),
            "private_per_emotion": private["per_emotion"],
            "private_mean": private["mean_pearson"],
            "private_ci_low": private["ci_low"],
            "private_ci_high": private["ci_high"],
            "private_bootstrap": private["bootstrap"],
        }

    def public_rows(self, split: str) -> np.ndarray:
        """Mask of the ground-truth rows of hidden ``split`` in its public part (each part must be scorable)."""
        truth = self.ground_truth(split)
        mask = public_mask(truth.ids)
        for part in (mask, ~mask):
            values = truth.values[part]
            if len(values) < 2 or np.any(values.min(axis=0) == values.max(axis=0)):
                raise LeaderboardError(
                    f"the ground truth of split {split!r} is too small to split into a public and a private part"
                )
        return mask

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

    def entries(self, split: str | None = None, team: str | None = None) -> list[Entry]:
        """Every stored submission (scored and rejected), oldest first, optionally of one split or team."""
        clauses, params = [], []
        if split:
            clauses.append("split = ?")
            params.append(check_split(split))
        if team:
            clauses.append("team_key = ?")
            params.append(team_key(normalize_team_name(team)))
        query = "SELECT * FROM submissions" + (" WHERE " + " AND ".join(clauses) if clauses else "") + " ORDER BY id"
        with db.connect(self.db_path) as conn:
            rows = db.retry_busy(lambda: conn.execute(query, params).fetchall())
            closed = self._closed_splits(conn)
        return [Entry.from_row(row, row["split"] in closed) for row in rows]

    def ranking(self, split: str = "val", all_submissions: bool = False) -> list[RankedEntry]:
        """Scored submissions of ``split``, best first: each team's best one, or all of them.

        A hidden split is ranked on its public part during the phase; once closed, on its private part,
        each team by the best of its final picks (or, without picks, of its :attr:`final_picks` best
        public submissions). Ties keep the earlier submission first and share a rank. Each entry
        carries the paired bootstrap p-value of its gap to the leader (``None`` for the leader).
        """
        split = check_split(split)
        query = "SELECT * FROM submissions WHERE split = ? AND status = ? ORDER BY mean_pearson DESC, submitted_at, id"
        with db.connect(self.db_path) as conn:
            rows = db.retry_busy(lambda: conn.execute(query, (split, SCORED)).fetchall())
            closed = split in self._closed_splits(conn)
        final = closed and self.is_hidden(split)
        ranked_on = "private" if final else ("public" if self.is_hidden(split) else "all")
        mean, replicates = ("private_mean", "private_bootstrap") if final else ("mean_pearson", "bootstrap")
        if final:
            if not all_submissions:
                rows = [row for row in rows if row["id"] in self._final_candidates(rows)]
            rows.sort(key=lambda row: -row["private_mean"])  # stable: ties keep the public order
        if not all_submissions:
            rows = _best_per_team(rows)
        ranked: list[RankedEntry] = []
        for position, row in enumerate(rows):
            tied = ranked and rows[position - 1][mean] == row[mean]
            rank = ranked[-1].rank if tied else position + 1
            p_value = None if position == 0 else _p_value(rows[0], row, replicates)
            ranked.append(RankedEntry(rank, Entry.from_row(row, closed), p_value, ranked_on))
        return ranked

    def _final_candidates(self, rows: list[sqlite3.Row]) -> set[int]:
        """Ids of the entries that count for the final ranking: each team's picks, else its best public ones."""
        by_team: dict[str, list[sqlite3.Row]] = {}
        for row in rows:  # best public first
            by_team.setdefault(row["team_key"], []).append(row)
        chosen: set[int] = set()
        for team_rows in by_team.values():
            picks = [row["id"] for row in team_rows if row["final"]]
            chosen.update(picks or [row["id"] for row in team_rows[: self.final_picks]])
        return chosen

    def close(self, split: str) -> None:
        """Close the phase of ``split``: no more submissions; a hidden split's private ranking is revealed."""
        split = check_split(split)
        self.ground_truth(split)  # a phase is closed against a readable ground truth

        def body(conn: sqlite3.Connection) -> None:
            if conn.execute("SELECT 1 FROM phases WHERE split = ?", (split,)).fetchone():
                raise LeaderboardError(f"the phase of split {split!r} is already closed")
            conn.execute("INSERT INTO phases (split, closed_at) VALUES (?, ?)", (split, _stamp(self._clock())))

        with db.connect(self.db_path) as conn:
            db.write(conn, body)
        self._record("phases", "split = ?", (split,))

    def pick_final(self, team: str, split: str, entry_ids: Sequence[int]) -> list[Entry]:
        """Make ``entry_ids`` (at most :attr:`final_picks` of the team's scored entries) its final picks."""
        team, split = normalize_team_name(team), check_split(split)
        ids = sorted(set(int(entry_id) for entry_id in entry_ids))
        if len(ids) > self.final_picks:
            raise LeaderboardError(f"a team picks at most {self.final_picks} final submissions, got {len(ids)}")

        def body(conn: sqlite3.Connection) -> None:
            self._check_open(split, conn)
            for entry_id in ids:
                self._own_scored_row(conn, team, split, entry_id)
            conn.execute("UPDATE submissions SET final = 0 WHERE team_key = ? AND split = ?", (team_key(team), split))
            conn.executemany("UPDATE submissions SET final = 1 WHERE id = ?", [(entry_id,) for entry_id in ids])

        with db.connect(self.db_path) as conn:
            db.write(conn, body)
        self._record("submissions", "team_key = ? AND split = ?", (team_key(team), split))
        return [entry for entry in self.entries(split, team) if entry.final]

    def _own_scored_row(self, conn: sqlite3.Connection, team: str, split: str, entry_id: int) -> sqlite3.Row:
        row = conn.execute(
            "SELECT * FROM submissions WHERE id = ? AND team_key = ? AND split = ? AND status = ?",
            (entry_id, team_key(team), split, SCORED),
        ).fetchone()
        if row is None:
            raise LeaderboardError(f"team {team!r} has no scored submission #{entry_id} on {split!r}")
        return row

    def add_team(self, name: str) -> str:
        """Register a team and return its new token (shown once: only its hash is stored).

        Registering an existing team (any letter case) replaces its token: the old one stops working.
        """
        name, key, token = team_record(name)

        def body(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM teams WHERE team_key = ?", (key,))
            conn.execute(
                "INSERT INTO teams (name, team_key, selector, salt, token_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (name, key, token.selector, token.salt, token.token_hash, _stamp(self._clock())),
            )

        with db.connect(self.db_path) as conn:
            db.write(conn, body)
        if self._journal is not None:
            self._journal.delete("teams", "team_key", key)
        self._record("teams", "team_key = ?", (key,))
        return token.token

    def teams(self) -> list[str]:
        """Names of the registered teams (those with a token)."""
        with db.connect(self.db_path) as conn:
            rows = db.retry_busy(lambda: conn.execute("SELECT name FROM teams ORDER BY team_key").fetchall())
        return [row["name"] for row in rows]

    def member_for_token(self, token: str) -> Member:
        """The team a token belongs to; :class:`~emi_core.leaderboard.identity.IdentityError` if none."""
        selector, secret = token_selector(token)
        with db.connect(self.db_path) as conn:
            query = "SELECT * FROM teams WHERE selector = ?"
            row = db.retry_busy(lambda: conn.execute(query, (selector,)).fetchone())
        if row is None or not token_matches(secret, row["salt"], row["token_hash"]):
            raise IdentityError("this team token is not valid (revoked, mistyped, or from another board)")
        return Member(row["name"], f"token:{selector}")

    def compare(self, member: Member, split: str, first_id: int, second_id: int) -> Comparison:
        """Paired bootstrap comparison, per emotion, of two of the team's scored submissions.

        Computed on what the split shows (its public part when hidden) and counted like a scored
        submission towards the daily limit (it is a scoring). Raises :class:`DailyLimitReached`.
        """
        split = check_split(split)
        now = self._clock().astimezone(timezone.utc)
        with db.connect(self.db_path) as conn:
            rows = [self._own_scored_row(conn, member.team, split, entry_id) for entry_id in (first_id, second_id)]
        truth = self.ground_truth(split)
        rows_shown = self.public_rows(split) if self.is_hidden(split) else np.ones(len(truth), dtype=bool)
        first, second = (self._stored_values(row, truth)[rows_shown] for row in rows)
        shown = truth.values[rows_shown]
        comparison = _comparison(first_id, second_id, first, second, shown)

        def count(conn: sqlite3.Connection) -> None:
            self._check_open(split, conn)
            self._check_limit(conn, member.team, split, now)
            conn.execute(
                "INSERT INTO comparisons (team_key, split, account, at, first_id, second_id) VALUES (?, ?, ?, ?, ?, ?)",
                (team_key(member.team), split, member.account, _stamp(now), first_id, second_id),
            )

        with db.connect(self.db_path) as conn:
            db.write(conn, count)
        self._record("comparisons", "team_key = ? AND split = ?", (team_key(member.team), split))
        return comparison

    def blend(self, member: Member, split: str, entry_ids: Sequence[int], description: str = "") -> Entry:
        """Score the average of two or more of the team's scored submissions as a new, counted submission."""
        split = check_split(split)
        ids = list(dict.fromkeys(int(entry_id) for entry_id in entry_ids))
        if len(ids) < 2:
            raise LeaderboardError("a blend needs at least two different submissions")
        truth = self.ground_truth(split)
        with db.connect(self.db_path) as conn:
            rows = [self._own_scored_row(conn, member.team, split, entry_id) for entry_id in ids]
        blended = np.mean([self._stored_values(row, truth) for row in rows], axis=0)
        text = submission_text(truth.ids, blended).encode()
        label = "blend of " + " + ".join(f"#{entry_id}" for entry_id in ids)
        return self.submit(member.team, split, text, f"{label}. {description}".strip(" ."), account=member.account)

    def _stored_values(self, row: sqlite3.Row, truth: GroundTruth) -> np.ndarray:
        """A stored scored file's values aligned to ``truth``'s rows."""
        result = validate_submission(self.store_dir / row["stored_file"], truth)
        if not result.ok:
            raise LeaderboardError(f"submission #{row['id']} no longer matches the ground truth of {row['split']!r}")
        return result.aligned_values()

    def export_csv(self, path: str | os.PathLike, split: str | None = None) -> int:
        """Write every submission (optionally of one split) to a spreadsheet-safe CSV; return the row count."""
        return write_export(path, self.entries(split))

    def _entry(self, conn: sqlite3.Connection, entry_id: int) -> Entry:
        row = db.retry_busy(lambda: conn.execute("SELECT * FROM submissions WHERE id = ?", (entry_id,)).fetchone())
        if row is None:
            raise LeaderboardError(f"no submission with id {entry_id}")
        return Entry.from_row(row, row["split"] in self._closed_splits(conn))

    def _closed_splits(self, conn: sqlite3.Connection) -> set[str]:
        return {row["split"] for row in db.retry_busy(lambda: conn.execute("SELECT split FROM phases").fetchall())}

    def _check_open(self, split: str, conn: sqlite3.Connection | None = None) -> None:
        """Refuse anything that changes a split whose phase is closed."""
        closed = split in self._closed_splits(conn) if conn is not None else self.is_closed(split)
        if closed:
            raise LeaderboardError(f"the phase of split {split!r} is closed: no more submissions")

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
        if counts:
            self._check_limit(conn, team, split, now)

    def _check_limit(self, conn: sqlite3.Connection, team: str, split: str, now: datetime) -> None:
        """Refuse a scoring (submission, blend or comparison) over the team's daily limit on the split."""
        key = team_key(team)
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        bounds = (_stamp(day), _stamp(day + timedelta(days=1)))
        used = conn.execute(
            "SELECT COUNT(*) FROM submissions WHERE team_key = ? AND split = ? AND status = ? "
            "AND submitted_at >= ? AND submitted_at < ?",
            (key, split, SCORED, *bounds),
        ).fetchone()[0]
        used += conn.execute(
            "SELECT COUNT(*) FROM comparisons WHERE team_key = ? AND split = ? AND at >= ? AND at < ?",
            (key, split, *bounds),
        ).fetchone()[0]
        if used >= self.daily_limit:
            raise DailyLimitReached(
                f"team {team!r} has used its {self.daily_limit} scored submissions to {split!r} for "
                f"{day:%Y-%m-%d} (UTC); rejected files do not count; try again after midnight UTC"
            )

    def sweep_orphans(self, max_age_s: float = ORPHAN_AGE_S) -> list[str]:
        """Delete stored files no entry refers to (and unfinished temporary files), older than ``max_age_s``."""
        with db.connect(self.db_path) as conn:
            query = "SELECT stored_file FROM submissions WHERE stored_file IS NOT NULL"
            kept = {row["stored_file"] for row in db.retry_busy(lambda: conn.execute(query).fetchall())}
        cutoff = time.time() - max_age_s
        swept = []
        for path in self.files_dir.iterdir():
            relative = f"{FILES_FOLDER}/{path.name}"
            if relative not in kept and path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                swept.append(relative)
        return swept

    def _store_file(self, raw: bytes, sha256: str) -> str:
        """Keep a copy of a submitted CSV as ``files/<sha256>.csv`` (written atomically); return its relative path."""
        relative = f"{FILES_FOLDER}/{sha256}.csv"
        target = self.store_dir / relative
        if not target.exists():
            write_bytes_atomic(target, raw, durable=True)
        return relative


def _score_fields(aligned: np.ndarray, truth: np.ndarray) -> dict:
    """Database fields of a scored submission: per-emotion r, mean, bootstrap CI and replicates."""
    report = score_arrays(aligned, truth)
    replicates = bootstrap_means(aligned, truth)
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


@dataclass(frozen=True)
class Comparison:
    """Two submissions compared per emotion with a paired bootstrap (same resampled videos for both)."""

    first_id: int
    second_id: int
    first: dict[str, float]
    second: dict[str, float]
    p_values: dict[str, float]
    """Two-sided paired bootstrap p-value of each emotion's gap (and of ``mean``)."""

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "first_id": self.first_id,
            "second_id": self.second_id,
            "first": dict(self.first),
            "second": dict(self.second),
            "p_values": dict(self.p_values),
        }


def _comparison(first_id: int, second_id: int, first: np.ndarray, second: np.ndarray, truth: np.ndarray) -> Comparison:
    names = [*EMOTIONS, "mean"]
    scores = []
    for pred in (first, second):
        report = score_arrays(pred, truth)
        scores.append({**report.per_emotion, "mean": report.mean_pearson})
    first_boot, second_boot = (bootstrap_pearson(pred, truth) for pred in (first, second))
    first_boot = np.column_stack([first_boot, first_boot.mean(axis=1)])
    second_boot = np.column_stack([second_boot, second_boot.mean(axis=1)])
    p_values = {name: two_sided_p_value(first_boot[:, i], second_boot[:, i]) for i, name in enumerate(names)}
    return Comparison(first_id, second_id, scores[0], scores[1], p_values)


def _stamp(moment: datetime) -> str:
    return f"{moment.astimezone(timezone.utc):%Y-%m-%dT%H:%M:%SZ}"


def _best_per_team(rows: list[sqlite3.Row]) -> list[sqlite3.Row]:
    """The first (best) row of each team from rows sorted best first."""
    seen: set[str] = set()
    best = []
    for row in rows:
        if row["team_key"] not in seen:
            seen.add(row["team_key"])
            best.append(row)
    return best


def _p_value(leader: sqlite3.Row, row: sqlite3.Row, column: str = "bootstrap") -> float | None:
    """Paired bootstrap p-value of ``row`` against ``leader``, when both have comparable replicates."""
    if leader[column] is None or row[column] is None or leader["truth_sha256"] != row["truth_sha256"]:
        return None
    return paired_p_value(np.frombuffer(leader[column], "<f8"), np.frombuffer(row[column], "<f8"))


def _stored_reasons(problems: Sequence[Problem], total: int) -> list[str]:
    """The reasons kept with a rejected entry: the first :data:`STORED_REASONS_MAX` problems and a count."""
    reasons = [str(problem) for problem in problems[:STORED_REASONS_MAX]]
    shown = min(len(problems), STORED_REASONS_MAX)
    if total > shown:
        reasons.append(f"... and {total - shown:,} more problems")
    return reasons


def _check_description(description: str | None) -> str:
    """Trim a description and check it is one line of at most :data:`DESCRIPTION_MAX_LENGTH` characters."""
    text = (description or "").strip()
    if len(text) > DESCRIPTION_MAX_LENGTH:
        raise LeaderboardError(f"description has {len(text)} characters, more than {DESCRIPTION_MAX_LENGTH}")
    if any(unicodedata.category(character) == "Cc" for character in text):
        raise LeaderboardError("description must be one line of text without control characters")
    return text
