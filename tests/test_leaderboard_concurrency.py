"""Several processes submitting at once lose no row, corrupt nothing and respect the daily limit."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from emi_core.atomic import TEMP_SUFFIX
from emi_core.leaderboard import Leaderboard
from emi_core.scoring import write_submission

PROCESSES = 6
FILES_EACH = 4

SUBMITTER = """
import json, pathlib, sys, time
from emi_core.leaderboard import DailyLimitReached, Leaderboard
store, truth, team, limit, ready, go, *files = sys.argv[1:]
import emi_core.scoring.fastpath, pandas  # import before the start signal
pathlib.Path(ready).touch()
while not pathlib.Path(go).exists():
    time.sleep(0.002)
board = Leaderboard(store, ground_truth={"val": truth}, daily_limit=int(limit))  # migrates a fresh database
results = []
for path in files:
    try:
        results.append(board.submit(team, "val", path, f"from {team}").id)
    except DailyLimitReached:
        results.append("limit")
print(json.dumps(results))
"""


def run_at_once(tmp_path: Path, teams: list[str], limit: int) -> list[list]:
    """Start one submitting process per team, release them together, return what each submitted."""
    rng = np.random.default_rng(0)
    ids = [f"{i:05d}" for i in range(200)]
    truth = rng.random((200, 6))
    truth_path = write_submission(tmp_path / "truth.csv", ids, truth)
    go = tmp_path / "go"
    processes = []
    for number, team in enumerate(teams):
        files = [
            write_submission(
                tmp_path / f"p{number}_{k}.csv", ids, np.clip(truth + rng.normal(0, 0.3, truth.shape), 0, 1)
            )
            for k in range(FILES_EACH)
        ]
        ready = tmp_path / f"ready{number}"
        args = [str(tmp_path / "store"), str(truth_path), team, str(limit), str(ready), str(go), *map(str, files)]
        processes.append(
            (
                ready,
                subprocess.Popen(
                    [sys.executable, "-c", SUBMITTER, *args],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    env=os.environ.copy(),
                ),
            )
        )
    deadline = time.monotonic() + 120
    while not all(ready.exists() for ready, _ in processes):
        assert time.monotonic() < deadline, "submitters did not start"
        time.sleep(0.01)
    go.touch()
    results = []
    for _, process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        results.append(json.loads(out))
    return results


def check_database(store: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(store / "leaderboard.sqlite3")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    return conn


def test_parallel_submissions_lose_nothing(tmp_path):
    teams = [f"Team {number}" for number in range(PROCESSES)]
    results = run_at_once(tmp_path, teams, limit=FILES_EACH)
    ids = [entry_id for result in results for entry_id in result]
    assert "limit" not in ids
    assert sorted(ids) == list(range(1, PROCESSES * FILES_EACH + 1))
    conn = check_database(tmp_path / "store")
    rows = conn.execute("SELECT team, status, stored_file FROM submissions").fetchall()
    assert len(rows) == PROCESSES * FILES_EACH
    assert {team: sum(row[0] == team for row in rows) for team in teams} == dict.fromkeys(teams, FILES_EACH)
    assert all(status == "scored" and (tmp_path / "store" / stored).is_file() for _, status, stored in rows)
    assert not list((tmp_path / "store" / "files").glob("*" + TEMP_SUFFIX))
    assert len(Leaderboard(tmp_path / "store").ranking("val")) == PROCESSES


def test_parallel_submissions_of_one_team_respect_the_daily_limit(tmp_path):
    limit = 5
    results = run_at_once(tmp_path, ["Same Team"] * PROCESSES, limit=limit)
    outcomes = [outcome for result in results for outcome in result]
    assert sum(outcome != "limit" for outcome in outcomes) == limit
    conn = check_database(tmp_path / "store")
    assert conn.execute("SELECT COUNT(*) FROM submissions WHERE status = 'scored'").fetchone()[0] == limit
