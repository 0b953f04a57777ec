"""Forward migration: a database of the first schema, made by hand, is upgraded with its data kept."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import numpy as np
import pytest

from emi_core.emotions import EMOTIONS
from emi_core.leaderboard import DuplicateSubmission, Leaderboard
from emi_core.leaderboard.db import SCHEMA_VERSION
from emi_core.scoring import write_submission

VERSION_1 = """
CREATE TABLE submissions (
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
);
CREATE INDEX submissions_split_team ON submissions (split, team);
PRAGMA user_version = 1;
"""


@pytest.fixture()
def old_store(tmp_path):
    rng = np.random.default_rng(0)
    ids = [f"{i:05d}" for i in range(100)]
    truth = rng.random((100, 6))
    truth_path = write_submission(tmp_path / "truth.csv", ids, truth)
    pred_path = write_submission(tmp_path / "pred.csv", ids, np.clip(truth + rng.normal(0, 0.3, truth.shape), 0, 1))
    store = tmp_path / "store"
    store.mkdir()
    sha = hashlib.sha256(pred_path.read_bytes()).hexdigest()
    per_emotion = json.dumps(dict.fromkeys(EMOTIONS, 0.5))
    conn = sqlite3.connect(store / "leaderboard.sqlite3")
    conn.executescript(VERSION_1)
    conn.execute(
        "INSERT INTO submissions (team, submitted_at, split, sha256, stored_file, n_rows, status, per_emotion, "
        "mean_pearson, ci_low, ci_high, description) VALUES (?, ?, ?, ?, ?, ?, 'scored', ?, 0.5, 0.45, 0.55, 'old')",
        ("Old Team", "2024-01-02T03:04:05Z", "val", sha, f"files/{sha}.csv", 100, per_emotion),
    )
    conn.execute(
        "INSERT INTO submissions (team, submitted_at, split, sha256, n_rows, status, reasons) "
        "VALUES ('Old Team', '2024-01-02T04:00:00Z', 'val', 'abc', 0, 'rejected', ?)",
        (json.dumps(["file is empty"]),),
    )
    conn.commit()
    conn.close()
    return store, truth_path, pred_path


def test_version_1_is_migrated_and_its_rows_kept(old_store):
    store, truth_path, pred_path = old_store
    board = Leaderboard(store, ground_truth={"val": truth_path})
    with sqlite3.connect(board.db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT team_key FROM submissions ORDER BY id").fetchall() == [("old team",), ("old team",)]
        indexes = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"submissions_team_day", "submissions_team_file"} <= indexes
    scored, rejected = board.entries()
    assert (scored.team, scored.mean_pearson, scored.ci95, scored.description) == ("Old Team", 0.5, (0.45, 0.55), "old")
    assert scored.per_emotion["Joy"] == 0.5
    assert rejected.status == "rejected" and rejected.reasons == ("file is empty",)
    # the migrated team key takes part in the rules: the same file from the same team is recognised
    with pytest.raises(DuplicateSubmission, match="submission #1"):
        board.submit("OLD TEAM", "val", pred_path)
    new = board.submit("New Team", "val", pred_path)
    ranking = board.ranking("val")
    expected = sorted([(new.mean_pearson, new.id), (scored.mean_pearson, scored.id)], reverse=True)
    assert [r.entry.id for r in ranking] == [entry_id for _, entry_id in expected]
    assert all(r.p_value is None for r in ranking)  # rows from version 1 have no bootstrap replicates


def test_opening_again_does_not_migrate_twice(old_store):
    store, truth_path, _ = old_store
    Leaderboard(store)
    Leaderboard(store)
    assert len(Leaderboard(store).entries()) == 2
