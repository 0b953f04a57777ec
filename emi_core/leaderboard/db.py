"""The leaderboard's SQLite database: versioned schema with forward migrations, WAL, retried writes.

Every write runs in a ``BEGIN IMMEDIATE`` transaction (the write lock is taken up front, so two
writers never deadlock); a transaction that finds the database busy is retried as a whole.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from emi_core.leaderboard.errors import LeaderboardError

DATABASE_NAME = "leaderboard.sqlite3"
BUSY_TIMEOUT_S = 30.0
"""How long SQLite itself waits for a lock before reporting the database busy."""
BUSY_RETRIES = 6
"""How many times a busy transaction is retried (with jittered back-off) before giving up."""

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # version 0 -> 1: the submissions table
    (
        """CREATE TABLE submissions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            team TEXT NOT NULL,
            submitted_at TEXT NOT NULL,
            split TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            stored_file TEXT,
            n_rows INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('scored', 'rejected')),
            reasons TEXT NOT NULL DEFAULT '[]',
            per_emotion TEXT,
            mean_pearson REAL,
            ci_low REAL,
            ci_high REAL,
            description TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX submissions_split_team ON submissions (split, team)",
    ),
    # version 1 -> 2: case-insensitive team identity, bootstrap replicates for paired p-values
    (
        "ALTER TABLE submissions ADD COLUMN team_key TEXT NOT NULL DEFAULT ''",
        "UPDATE submissions SET team_key = lower(trim(team))",
        "ALTER TABLE submissions ADD COLUMN bootstrap BLOB",
        "ALTER TABLE submissions ADD COLUMN truth_sha256 TEXT",
        "DROP INDEX submissions_split_team",
        "CREATE INDEX submissions_team_day ON submissions (team_key, split, submitted_at)",
        "CREATE INDEX submissions_team_file ON submissions (team_key, split, sha256)",
    ),
    # version 2 -> 3: who submitted, the private part of hidden splits, final picks, phases, team tokens,
    # counted comparisons
    (
        "ALTER TABLE submissions ADD COLUMN account TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE submissions ADD COLUMN private_per_emotion TEXT",
        "ALTER TABLE submissions ADD COLUMN private_mean REAL",
        "ALTER TABLE submissions ADD COLUMN private_ci_low REAL",
        "ALTER TABLE submissions ADD COLUMN private_ci_high REAL",
        "ALTER TABLE submissions ADD COLUMN private_bootstrap BLOB",
        "ALTER TABLE submissions ADD COLUMN final INTEGER NOT NULL DEFAULT 0",
        """CREATE TABLE phases (
            split TEXT PRIMARY KEY,
            closed_at TEXT NOT NULL
        )""",
        """CREATE TABLE teams (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            team_key TEXT NOT NULL UNIQUE,
            selector TEXT NOT NULL UNIQUE,
            salt BLOB NOT NULL,
            token_hash BLOB NOT NULL,
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE comparisons (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            team_key TEXT NOT NULL,
            split TEXT NOT NULL,
            account TEXT NOT NULL,
            at TEXT NOT NULL,
            first_id INTEGER NOT NULL,
            second_id INTEGER NOT NULL
        )""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this code writes; older databases are migrated forward when opened."""

T = TypeVar("T")


def _is_busy(err: sqlite3.OperationalError) -> bool:
    text = str(err).lower()
    return "locked" in text or "busy" in text


def retry_busy(operation: Callable[[], T]) -> T:
    """Run ``operation``, retrying it when SQLite reports the database busy or locked."""
    for attempt in range(BUSY_RETRIES):
        try:
            return operation()
        except sqlite3.OperationalError as err:
            if not _is_busy(err) or attempt == BUSY_RETRIES - 1:
                raise
            time.sleep(min(0.05 * 2**attempt, 1.0) * random.uniform(0.5, 1.5))
    raise AssertionError("unreachable")  # pragma: no cover


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    """Open the database at ``path`` in WAL mode (autocommit; use :func:`write` for transactions)."""
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        conn.row_factory = sqlite3.Row
        mode = retry_busy(lambda: conn.execute("PRAGMA journal_mode=WAL").fetchone()[0])
        if mode.lower() != "wal":
            raise LeaderboardError(f"the leaderboard database cannot use WAL mode (got {mode!r})")
        conn.execute("PRAGMA synchronous=FULL")
        yield conn
    finally:
        conn.close()


def write(conn: sqlite3.Connection, body: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``body(conn)`` in one ``BEGIN IMMEDIATE`` transaction, retried as a whole when busy."""

    def attempt() -> T:
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = body(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return result

    return retry_busy(attempt)


def schema_version(conn: sqlite3.Connection) -> int:
    """The schema version stored in the database (0 for a new, empty database)."""
    return conn.execute("PRAGMA user_version").fetchone()[0]


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema up to :data:`SCHEMA_VERSION` in one transaction; return the version found."""

    def body(conn: sqlite3.Connection) -> int:
        found = schema_version(conn)
        if found > SCHEMA_VERSION:
            raise LeaderboardError(
                f"the leaderboard database has schema version {found}, newer than this EMI studio "
                f"understands ({SCHEMA_VERSION}); upgrade EMI studio"
            )
        for statements in MIGRATIONS[found:]:
            for statement in statements:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        return found

    return write(conn, body)
