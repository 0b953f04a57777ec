"""Durable on a Space: the store mirrored to a private Hugging Face dataset, restored at start.

A Space's disk is wiped on restart unless it has persistent storage. With ``$EMI_STORE_DATASET``
set (``owner/name`` of a private dataset; ``HF_TOKEN`` a Space secret with write access), every
change to the store is also written as one JSON line to an append-only journal
(``journal/<start>-<pid>.jsonl``), and :class:`StoreSync` pushes the journal and the stored CSVs
(``files/``) with :class:`huggingface_hub.CommitScheduler` every few minutes. At start, an empty
local store is rebuilt from the dataset by replaying the journals in order. Local SQLite stays the
store in every case; without the variable nothing leaves the machine.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import time
from pathlib import Path

from emi_core.leaderboard import db
from emi_core.leaderboard.errors import LeaderboardError

DATASET_VARIABLE = "EMI_STORE_DATASET"
JOURNAL_FOLDER = "journal"
SYNCED_PATTERNS = [f"{JOURNAL_FOLDER}/*.jsonl", "files/*.csv"]
PUSH_EVERY_MINUTES = 2.0
REPLAYED_TABLES = ("submissions", "teams", "phases", "comparisons")


def store_dataset() -> str | None:
    """``$EMI_STORE_DATASET`` (a dataset ``owner/name``), or ``None``."""
    value = os.environ.get(DATASET_VARIABLE, "").strip()
    return value or None


class Journal:
    """The append-only record of a store's changes: one JSON object a line, in this process's own file."""

    def __init__(self, store_dir: Path):
        self.folder = Path(store_dir) / JOURNAL_FOLDER
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.jsonl"

    def rows(self, table: str, conn: sqlite3.Connection, where: str, params: tuple) -> None:
        """Record the current state of the rows of ``table`` selected by ``where`` (upserts on replay)."""
        for row in conn.execute(f"SELECT * FROM {table} WHERE {where}", params).fetchall():
            self.append({"table": table, "row": {key: _encode(row[key]) for key in row.keys()}})

    def delete(self, table: str, key: str, value: str) -> None:
        """Record that rows of ``table`` with ``key = value`` were deleted."""
        self.append({"table": table, "delete": {key: value}})

    def append(self, record: dict) -> None:
        """Append one record and flush it to disk."""
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def _encode(value):
    return {"base64": base64.b64encode(value).decode("ascii")} if isinstance(value, bytes) else value


def _decode(value):
    return base64.b64decode(value["base64"]) if isinstance(value, dict) else value


def replay(store_dir: Path, conn: sqlite3.Connection) -> int:
    """Apply every journal of ``store_dir`` (oldest file first) to an empty database; return the records."""
    count = 0
    for path in sorted((Path(store_dir) / JOURNAL_FOLDER).glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            record = json.loads(line)
            table = record["table"]
            if table not in REPLAYED_TABLES:
                raise LeaderboardError(f"the store journal names an unknown table {table!r}")
            if "delete" in record:
                ((key, value),) = record["delete"].items()
                conn.execute(f"DELETE FROM {table} WHERE {key} = ?", (value,))
            else:
                row = {key: _decode(value) for key, value in record["row"].items()}
                columns = ", ".join(row)
                conn.execute(
                    f"INSERT OR REPLACE INTO {table} ({columns}) VALUES ({', '.join('?' for _ in row)})",
                    tuple(row.values()),
                )
            count += 1
    return count


class StoreSync:
    """Mirror ``store_dir`` to the private dataset ``repo_id`` (see the module docstring).

    ``api`` is a :class:`huggingface_hub.HfApi` (made from ``HF_TOKEN`` by default; tests pass their
    own). Call :meth:`restore` before opening the store, then :meth:`start`.
    """

    def __init__(self, store_dir: str | os.PathLike, repo_id: str, api=None):
        from huggingface_hub import HfApi

        self.store_dir = Path(store_dir)
        self.repo_id = repo_id
        self.api = api or HfApi()
        self.scheduler = None

    def restore(self) -> int:
        """Rebuild an empty local store from the dataset; return the records replayed (0 when not needed)."""
        database = self.store_dir / db.DATABASE_NAME
        if database.exists():
            with db.connect(database) as conn:
                db.migrate(conn)
                if conn.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]:
                    return 0
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.api.snapshot_download(
            repo_id=self.repo_id, repo_type="dataset", local_dir=str(self.store_dir), allow_patterns=SYNCED_PATTERNS
        )
        with db.connect(database) as conn:
            db.migrate(conn)
            return db.write(conn, lambda conn: replay(self.store_dir, conn))

    def start(self, every_minutes: float = PUSH_EVERY_MINUTES):
        """Start pushing the journal and stored files (a private dataset is made if missing)."""
        from huggingface_hub import CommitScheduler

        self.scheduler = CommitScheduler(
            repo_id=self.repo_id,
            repo_type="dataset",
            folder_path=self.store_dir,
            every=every_minutes,
            private=True,
            allow_patterns=SYNCED_PATTERNS,
            hf_api=self.api,
        )
        return self.scheduler

    def push_now(self):
        """Push pending changes at once (at shutdown, or in tests)."""
        return self.scheduler.trigger().result() if self.scheduler is not None else None
