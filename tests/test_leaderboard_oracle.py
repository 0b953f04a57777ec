"""The scoring oracle attack of issue 12: one-hot probes against a hidden split rebuild nothing.

An attacker uploads probe CSVs (1 at row k, 0 elsewhere): Pearson's r_k ∝ t_k − mean(t), so one
reply per video used to rebuild the test labels exactly. Now a check of a hidden split never
depends on its labels, official submissions show only the public part, and messages count ids
instead of naming them.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from demo.score import check_submission
from emi_core.emotions import CSV_HEADER_LINE, EMOTIONS
from emi_core.leaderboard import DailyLimitReached, Leaderboard, LeaderboardError
from emi_core.leaderboard.partition import PUBLIC_FRACTION, is_public, public_mask
from emi_core.scoring import score_arrays, submission_text, write_submission

N = 150
IDS = [f"{i:05d}" for i in range(N)]


@pytest.fixture()
def hidden(tmp_path):
    """A board whose ``test`` split is hidden, with a synthetic ground truth of 150 videos."""
    truth = np.random.default_rng(12).random((N, 6))
    path = write_submission(tmp_path / "test_truth.csv", IDS, truth)
    board = Leaderboard(tmp_path / "store", ground_truth={"test": path}, hidden_splits=["test"], daily_limit=5)
    return board, truth, path


def one_hot(k: int) -> bytes:
    values = np.zeros((N, 6))
    values[k] = 1.0
    return submission_text(IDS, values).encode()


def rebuild(reply_of, count: int) -> np.ndarray:
    """The audit's attack: r_k of the one-hot probe at row k, per emotion (NaN where no number came back)."""
    rebuilt = np.full((count, 6), np.nan)
    for k in range(count):
        report = reply_of(one_hot(k)).get("report")
        if report:
            rebuilt[k] = [report["per_emotion"][emotion] for emotion in EMOTIONS]
    return rebuilt


def test_anonymous_one_hot_probes_rebuild_nothing(hidden):
    board, truth, _ = hidden
    replies = []

    def reply_of(raw: bytes) -> dict:
        replies.append(check_submission(board, raw, "test"))
        return replies[-1]

    rebuilt = rebuild(reply_of, N)
    assert np.isnan(rebuilt).all()  # no number came back at all
    assert all(reply["status"] == "valid" and reply["report"] is None for reply in replies)
    assert len({json.dumps(reply) for reply in replies}) == 1  # every reply identical: zero information
    assert board.entries() == []  # and nothing was stored or counted


def test_one_hot_rebuild_works_where_labels_are_public(hidden, tmp_path):
    """The same attack on a split declared public does score: the test above is not vacuous."""
    _, truth, path = hidden
    board = Leaderboard(tmp_path / "open", ground_truth={"test": path}, hidden_splits=[])
    rebuilt = rebuild(lambda raw: check_submission(board, raw, "test"), 20)
    centred = truth[:20] - truth.mean(axis=0)
    assert np.corrcoef(rebuilt[:, 0], centred[:, 0])[0, 1] > 0.999


def test_messages_about_a_hidden_split_count_ids_and_never_name_them(hidden):
    board, _, _ = hidden
    rows = [f"{cell},0.1,0.2,0.3,0.4,0.5,0.6" for cell in IDS[:100]] + ["99999,0.1,0.2,0.3,0.4,0.5,0.6"]
    reply = check_submission(board, (CSV_HEADER_LINE + "\n" + "\n".join(rows) + "\n").encode(), "test")
    messages = [problem["message"] for problem in reply["problems"]]
    assert messages == ["1 id is not in this split", "50 ground-truth ids are missing"]
    assert all(problem["line"] is None for problem in reply["problems"])
    text = json.dumps(reply)
    assert not [cell for cell in IDS[100:] if cell in text] and "99999" not in text


def test_a_teams_submissions_show_nothing_of_the_private_part(hidden):
    board, truth, _ = hidden
    token = board.add_team("Prober")
    member = board.member_for_token(token)
    private = ~public_mask(IDS)
    base = np.clip(truth + np.random.default_rng(1).normal(0, 0.3, truth.shape), 0, 1)
    shown = []
    for probe in range(board.daily_limit):
        values = base.copy()
        values[private] = np.random.default_rng(100 + probe).random((private.sum(), 6))  # private rows vary only
        entry = board.submit(member.team, "test", submission_text(IDS, values).encode(), account=member.account)
        public = entry.to_dict()
        assert public["private_mean_pearson"] is None and public["private_per_emotion"] is None
        shown.append((entry.mean_pearson, entry.per_emotion, entry.ci95))
        expected = score_arrays(values[~private], truth[~private])
        assert entry.mean_pearson == pytest.approx(expected.mean_pearson, abs=1e-12)
    assert all(item == shown[0] for item in shown)  # what is shown does not depend on private predictions
    with pytest.raises(DailyLimitReached):  # and a team cannot probe beyond its limit
        board.submit(member.team, "test", one_hot(0), account=member.account)
    ranking = board.ranking("test")
    assert ranking[0].ranked_on == "public" and ranking[0].entry.private_mean_pearson is None


def test_partition_is_fixed_seeded_and_documented():
    mask = public_mask(IDS)
    assert mask.tolist() == [is_public(cell) for cell in IDS] == public_mask(list(reversed(IDS)))[::-1].tolist()
    assert abs(mask.mean() - PUBLIC_FRACTION) < 0.1
    assert public_mask(IDS, seed="another seed").tolist() != mask.tolist()


def test_closing_reveals_the_private_ranking_of_final_picks(hidden):
    board, truth, _ = hidden
    rng = np.random.default_rng(4)
    entries, submitted = {}, {}
    for team, noise in (("Alpha", 0.1), ("Beta", 0.4)):
        for attempt in range(3):
            values = np.clip(truth + rng.normal(0, noise + 0.05 * attempt, truth.shape), 0, 1)
            entries[team, attempt] = board.submit(team, "test", submission_text(IDS, values).encode())
            submitted[entries[team, attempt].id] = values
    picked = board.pick_final("Alpha", "test", [entries["Alpha", 2].id])
    assert [entry.id for entry in picked] == [entries["Alpha", 2].id]
    with pytest.raises(LeaderboardError, match="at most 2 final submissions"):
        board.pick_final("Beta", "test", [entries["Beta", i].id for i in range(3)])
    with pytest.raises(LeaderboardError, match="no scored submission"):
        board.pick_final("Beta", "test", [entries["Alpha", 0].id])
    board.close("test")
    final = board.ranking("test")
    assert [ranked.entry.team for ranked in final] == ["Alpha", "Beta"]
    assert final[0].ranked_on == "private" and final[0].entry.id == entries["Alpha", 2].id
    private = ~public_mask(IDS)
    expected = score_arrays(submitted[final[0].entry.id][private], truth[private])
    assert final[0].entry.private_mean_pearson == pytest.approx(expected.mean_pearson, abs=1e-12)
    assert final[0].score == final[0].entry.private_mean_pearson != final[0].entry.mean_pearson
    assert final[1].p_value is not None
    with pytest.raises(LeaderboardError, match="closed"):
        board.submit("Alpha", "test", one_hot(1))


def test_cli_close_prints_the_final_private_ranking(hidden, capsys):
    from emi_core.cli import main

    board, truth, path = hidden
    values = np.clip(truth + np.random.default_rng(3).normal(0, 0.2, truth.shape), 0, 1)
    entry = board.submit("Closer", "test", submission_text(IDS, values).encode())
    store = ["--store", str(board.store_dir), "--truth", str(path)]
    assert main(["leaderboard", "close", "--split", "test", *store]) == 0
    out = capsys.readouterr().out
    assert "final ranking (private)" in out and "Closer" in out
    private = ~public_mask(IDS)
    assert f"{score_arrays(values[private], truth[private]).mean_pearson:.4f}" in out
    assert f"{entry.mean_pearson:.4f}" not in out.split("Closer", 1)[1].split()[0]
    assert main(["leaderboard", "close", "--split", "test", *store]) == 2  # already closed
    assert "already closed" in capsys.readouterr().err
