"""The leaderboard store: what a submission keeps, the rules it enforces, rankings and export."""

from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from emi_core.leaderboard import (
    DailyLimitReached,
    DuplicateSubmission,
    InvalidTeamName,
    Leaderboard,
    LeaderboardError,
    SubmissionRejected,
    normalize_team_name,
)
from emi_core.leaderboard.db import SCHEMA_VERSION
from emi_core.scoring import SubmissionError, score_submission, write_submission

N = 300


class Clock:
    """A settable UTC clock."""

    def __init__(self):
        self.now = datetime(2024, 6, 17, 9, 30, tzinfo=timezone.utc)

    def __call__(self):
        return self.now


@pytest.fixture()
def files(tmp_path):
    """Ground truth and a factory of prediction files of a chosen quality."""
    rng = np.random.default_rng(21)
    ids = [f"{i:05d}" for i in range(N)]
    truth = rng.random((N, 6))
    truth_path = write_submission(tmp_path / "truth.csv", ids, truth)

    def prediction(name: str, noise: float) -> object:
        values = np.clip(truth + rng.normal(0, noise, truth.shape), 0, 1)
        return write_submission(tmp_path / f"{name}.csv", ids, values)

    return truth_path, prediction


@pytest.fixture()
def clock():
    return Clock()


@pytest.fixture()
def board(tmp_path, files, clock):
    return Leaderboard(tmp_path / "store", ground_truth={"val": files[0], "test": files[0]}, daily_limit=3, clock=clock)


def test_a_scored_submission_keeps_everything(board, files):
    truth_path, prediction = files
    path = prediction("good", 0.2)
    entry = board.submit("  Team   Alpha ", "val", path, "ResNet18 + AU + Wav2Vec2")
    assert entry.team == "Team Alpha" and entry.split == "val" and entry.status == "scored"
    assert entry.submitted_at == "2024-06-17T09:30:00Z"
    assert entry.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (board.store_dir / entry.file).read_bytes() == path.read_bytes()
    assert entry.n_rows == N and entry.description == "ResNet18 + AU + Wav2Vec2"
    report = score_submission(path, truth_path)
    assert entry.per_emotion == report.per_emotion and entry.mean_pearson == report.mean_pearson
    low, high = entry.ci95
    assert low < entry.mean_pearson < high and high - low < 0.2
    assert entry.reasons == () and entry.warnings == ()
    assert board.entry(entry.id) == entry == board.entries()[0]
    assert json.loads(json.dumps(entry.to_dict()))["ci95"] == [low, high]


def test_a_rejected_submission_is_stored_with_its_reasons(board, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "Filename,Admiration,Amusement,Determination,Empathic Pain,Excitement,Joy\n00001,0.1,0.2,0.3,0.4,0.5,7\n"
    )
    with pytest.raises(SubmissionRejected) as caught:
        board.submit("Team Alpha", "val", bad)
    entry = caught.value.entry
    assert entry.status == "rejected" and entry.mean_pearson is None and entry.ci95 is None
    assert entry.reasons[0] == "line 2, column 'Joy': '7' is outside [0, 1]"
    assert entry.reasons[1].startswith(f"column 'Filename': {N - 1} ground-truth ids are missing")
    assert str(caught.value).startswith("submission has 2 problems:")
    assert board.entries() == [entry]


def test_daily_limit_counts_scored_submissions_only(board, files, clock, tmp_path):
    _, prediction = files
    for number in range(2):
        bad = tmp_path / f"bad{number}.csv"
        bad.write_text(f"nonsense {number}\n")
        with pytest.raises(SubmissionRejected):
            board.submit("Team Alpha", "val", bad)
    for number in range(3):
        board.submit("Team Alpha" if number else "team ALPHA", "val", prediction(f"p{number}", 0.3))
    with pytest.raises(
        DailyLimitReached, match=r"team 'Team Alpha' has used its 3 scored submissions to 'val' for 2024-06-17"
    ):
        board.submit("Team Alpha", "val", prediction("p3", 0.3))
    late_bad = tmp_path / "late.csv"
    late_bad.write_text("still nonsense\n")
    with pytest.raises(SubmissionRejected):  # an invalid file still gets its reasons, and does not count
        board.submit("Team Alpha", "val", late_bad)
    board.submit("Team Alpha", "test", prediction("other-split", 0.3))
    board.submit("Team Beta", "val", prediction("other-team", 0.3))
    clock.now += timedelta(hours=15)  # 00:30 UTC on the next day
    assert board.submit("Team Alpha", "val", prediction("p3", 0.3)).submitted_at == "2024-06-18T00:30:00Z"


def test_daily_limit_from_the_environment(tmp_path, files, monkeypatch):
    monkeypatch.setenv("EMI_DAILY_LIMIT", "7")
    assert Leaderboard(tmp_path / "a").daily_limit == 7
    monkeypatch.setenv("EMI_DAILY_LIMIT", "0")
    with pytest.raises(LeaderboardError, match="EMI_DAILY_LIMIT must be a positive integer, got '0'"):
        Leaderboard(tmp_path / "b")
    monkeypatch.delenv("EMI_DAILY_LIMIT")
    assert Leaderboard(tmp_path / "c").daily_limit == 5


def test_the_same_file_twice_is_recognised(board, files, tmp_path):
    _, prediction = files
    path = prediction("once", 0.3)
    first = board.submit("Team Alpha", "val", path)
    copy = tmp_path / "renamed.csv"
    copy.write_bytes(path.read_bytes())
    with pytest.raises(DuplicateSubmission, match=r"already submitted this file to 'val' as submission #1") as caught:
        board.submit("team alpha", "val", copy)
    assert caught.value.entry_id == first.id
    board.submit("Team Beta", "val", path)  # another team may send the same bytes
    bad = tmp_path / "bad.csv"
    bad.write_text("x\n")
    with pytest.raises(SubmissionRejected):
        board.submit("Team Alpha", "val", bad)
    with pytest.raises(DuplicateSubmission, match="rejected"):
        board.submit("Team Alpha", "val", bad)
    assert len(board.entries()) == 3


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "team name is empty"),
        ("   ", "team name is empty"),
        ("x" * 41, "team name has 41 characters, more than 40"),
        ("Team<script>", "'<' is not allowed"),
        ("=HYPERLINK()", "'=' is not allowed"),
        ("-dash", "it must start with a letter or digit"),
        ("Équipe", "'É' is not allowed"),
    ],
)
def test_team_name_rules(name, message):
    with pytest.raises(InvalidTeamName, match=message.replace("(", r"\(").replace(")", r"\)")):
        normalize_team_name(name)


def test_team_names_are_trimmed():
    assert normalize_team_name("  EMI   lab_2024.v1-b ") == "EMI lab_2024.v1-b"
    assert normalize_team_name("x" * 40) == "x" * 40


def test_refusals_store_nothing(board, files, tmp_path, monkeypatch):
    _, prediction = files
    path = prediction("p", 0.3)
    with pytest.raises(LeaderboardError, match="unknown split 'train'; choose one of val, test"):
        board.submit("Team", "train", path)
    with pytest.raises(LeaderboardError, match="description has 501 characters"):
        board.submit("Team", "val", path, "d" * 501)
    with pytest.raises(LeaderboardError, match="one line"):
        board.submit("Team", "val", path, "two\nlines")
    with pytest.raises(SubmissionError, match="not found"):
        board.submit("Team", "val", tmp_path / "missing.csv")
    monkeypatch.setattr("emi_core.leaderboard.board.DEFAULT_MAX_BYTES", 100)
    with pytest.raises(SubmissionError, match="over the limit of 100 bytes"):
        board.submit("Team", "val", path)
    assert board.entries() == []
    assert list(board.files_dir.iterdir()) == []


def test_ground_truth_comes_from_the_environment_and_is_never_copied(tmp_path, files, monkeypatch):
    truth_path, prediction = files
    monkeypatch.delenv("EMI_GROUND_TRUTH_TEST", raising=False)
    monkeypatch.setenv("EMI_GROUND_TRUTH_VAL", str(truth_path))
    board = Leaderboard(tmp_path / "store")
    board.submit("Team", "val", prediction("p", 0.3))
    with pytest.raises(
        LeaderboardError, match=r"no ground truth is configured for split 'test' \(set EMI_GROUND_TRUTH_TEST\)"
    ):
        board.submit("Team", "test", prediction("q", 0.3))
    truth_hash = hashlib.sha256(truth_path.read_bytes()).hexdigest()
    stored = [path.name for path in (tmp_path / "store").rglob("*") if path.is_file()]
    assert all(truth_hash not in name for name in stored)
    assert sorted(stored) == sorted(["leaderboard.sqlite3", *(n for n in stored if n.endswith(".csv"))])
    assert len([n for n in stored if n.endswith(".csv")]) == 1
    monkeypatch.setenv("EMI_GROUND_TRUTH_VAL", str(tmp_path / "gone.csv"))
    with pytest.raises(LeaderboardError) as caught:
        board.submit("Team", "val", prediction("r", 0.3))
    assert str(caught.value) == "the ground truth of split 'val' cannot be read"


def test_store_folder_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EMI_SUBMISSIONS_DIR", raising=False)
    assert Leaderboard().db_path.resolve() == tmp_path / "submissions" / "leaderboard.sqlite3"
    monkeypatch.setenv("EMI_SUBMISSIONS_DIR", str(tmp_path / "elsewhere"))
    board = Leaderboard()
    assert board.db_path == tmp_path / "elsewhere" / "leaderboard.sqlite3" and board.files_dir.is_dir()
    with sqlite3.connect(board.db_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_newer_schema_is_refused(tmp_path):
    Leaderboard(tmp_path)
    with sqlite3.connect(tmp_path / "leaderboard.sqlite3") as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(LeaderboardError, match="newer than this EMI studio understands"):
        Leaderboard(tmp_path)


def test_ranking_best_per_team_with_p_values(board, files, clock):
    _, prediction = files
    alpha_best = board.submit("Team Alpha", "val", prediction("a1", 0.15))
    clock.now += timedelta(minutes=1)
    alpha_worse = board.submit("Team Alpha", "val", prediction("a2", 0.6))
    beta = board.submit("Team Beta", "val", prediction("b1", 0.6))
    gamma = board.submit("Team Gamma", "val", prediction("g1", 0.15))
    ranking = board.ranking("val")
    assert [r.entry.team for r in ranking][:1] in (["Team Alpha"], ["Team Gamma"])
    assert {r.entry.id for r in ranking} == {alpha_best.id, beta.id, gamma.id}
    assert [r.rank for r in ranking] == [1, 2, 3]
    assert ranking[0].p_value is None
    by_id = {r.entry.id: r for r in ranking}
    assert by_id[beta.id].p_value < 0.01  # far behind: the gap is real
    close = by_id[gamma.id if ranking[0].entry.id == alpha_best.id else alpha_best.id]
    assert close.p_value > by_id[beta.id].p_value
    assert [r.entry.mean_pearson for r in ranking] == sorted((r.entry.mean_pearson for r in ranking), reverse=True)
    everything = board.ranking("val", all_submissions=True)
    assert {r.entry.id for r in everything} == {alpha_best.id, alpha_worse.id, beta.id, gamma.id}
    assert board.ranking("test") == []
    assert everything[0].to_dict()["p_value_vs_leader"] is None and everything[0].to_dict()["rank"] == 1


def test_identical_scores_share_a_rank_and_have_p_value_one(board, files, tmp_path):
    _, prediction = files
    path = prediction("same", 0.3)
    first = board.submit("Team Alpha", "val", path)
    second = board.submit("Team Beta", "val", path)
    ranking = board.ranking("val")
    assert [(r.rank, r.entry.id) for r in ranking] == [(1, first.id), (1, second.id)]
    assert ranking[1].p_value == 1.0


def test_export_is_spreadsheet_safe(board, files, tmp_path):
    _, prediction = files
    board.submit("Team Alpha", "val", prediction("a", 0.3), '=HYPERLINK("http://x")')
    board.submit("Team Beta", "val", prediction("b", 0.3), "+1 better")
    board.submit("Team Gamma", "val", prediction("c", 0.3), "@SUM(A1)")
    board.submit("Team Delta", "val", prediction("d", 0.3), "-2 worse")
    out = tmp_path / "export.csv"
    assert board.export_csv(out) == 4
    with open(out, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["description"] for row in rows] == ['\'=HYPERLINK("http://x")', "'+1 better", "'@SUM(A1)", "'-2 worse"]
    assert all(not row[key].startswith("'") for row in rows for key in row if key != "description")
    assert float(rows[0]["mean_pearson"]) == board.entries()[0].mean_pearson
    assert rows[0]["Empathic Pain"] and rows[0]["status"] == "scored"


def test_orphan_stored_files_after_a_kill_are_swept(board, files):
    import os
    import time

    entry = board.submit("Team Alpha", "val", files[1]("kept", 0.3))
    old_orphan = board.files_dir / ("0" * 64 + ".csv")
    old_temp = board.files_dir / ".abc.csv.123.deadbeef.tmp"
    young_orphan = board.files_dir / ("1" * 64 + ".csv")
    for path in (old_orphan, old_temp, young_orphan):
        path.write_text("left by a killed process")
    an_hour_ago = time.time() - 3700
    for path in (old_orphan, old_temp, board.store_dir / entry.file):
        os.utime(path, (an_hour_ago, an_hour_ago))
    reopened = Leaderboard(board.store_dir)
    assert not old_orphan.exists() and not old_temp.exists()
    assert young_orphan.exists() and (reopened.store_dir / entry.file).is_file()  # in flight, or referenced


def test_the_ground_truth_itself_is_refused_and_never_stored(board, files):
    truth_path, _ = files
    with pytest.raises(LeaderboardError, match="is the ground truth of the split"):
        board.submit("Team Alpha", "val", truth_path)
    reordered = truth_path.read_text().splitlines()
    reordered = [reordered[0], *reversed(reordered[1:])]
    with pytest.raises(LeaderboardError, match="is the ground truth of the split"):
        board.submit("Team Alpha", "val", ("\n".join(reordered) + "\n").encode())
    assert board.entries() == [] and list(board.files_dir.iterdir()) == []
