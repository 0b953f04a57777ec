"""The My team tab: own submissions with reasons, final picks, compare and blend (each counted)."""

from __future__ import annotations

import gradio as gr
import numpy as np
import pytest

from demo.team import TeamTab, comparison_table, my_table, parse_ids
from emi_core.emotions import EMOTIONS
from emi_core.leaderboard import Leaderboard
from emi_core.leaderboard.identity import Identities
from emi_core.leaderboard.partition import public_mask
from emi_core.scoring import score_arrays, submission_text, write_submission

IDS = [f"{i:05d}" for i in range(80)]


@pytest.fixture()
def setup(tmp_path):
    truth = np.random.default_rng(5).random((len(IDS), 6))
    path = write_submission(tmp_path / "test_truth.csv", IDS, truth)
    board = Leaderboard(tmp_path / "store", ground_truth={"test": path}, hidden_splits=["test"], daily_limit=4)
    token = board.add_team("Team A")
    other = board.add_team("Team B")
    tab = TeamTab(board, Identities("token", board.member_for_token))
    rng = np.random.default_rng(6)
    preds = [np.clip(truth + rng.normal(0, noise, truth.shape), 0, 1) for noise in (0.15, 0.3)]
    member = board.member_for_token(token)
    entries = [
        board.submit(member.team, "test", submission_text(IDS, pred).encode(), account=member.account) for pred in preds
    ]
    return board, tab, token, other, truth, preds, entries


def test_my_submissions_lists_only_own_entries_with_reasons(setup):
    board, tab, token, other, *_ = setup
    bad = b"Filename,Admiration\n00001,2\n"
    with pytest.raises(Exception, match="problems"):
        board.submit("Team A", "test", bad)
    table, caption = tab.show_ui(token, "", "test", None)
    assert list(table["#"]) == [3, 2, 1] and "Team A" in caption and "phase open" in caption
    assert table.loc[0, "status"] == "rejected" and "missing" in table.loc[0, "reasons"]
    assert table.loc[1, "final r"] == ""  # private scores hidden during the phase
    assert tab.my_submissions_api(other, "", "test", None)["entries"] == []
    with pytest.raises(gr.Error, match="team token"):
        tab.show_ui("", "Team A", "test", None)


def test_compare_is_a_paired_bootstrap_per_emotion_and_counts(setup):
    board, tab, token, other, truth, preds, entries = setup
    result = tab.compare_api(token, "", "test", entries[0].id, entries[1].id, None)
    shown = public_mask(IDS)
    expected = score_arrays(preds[0][shown], truth[shown])
    assert result["first"]["Joy"] == pytest.approx(expected.per_emotion["Joy"], abs=1e-12)
    assert result["first"]["mean"] == pytest.approx(entries[0].mean_pearson, abs=1e-12)
    assert result["p_values"]["mean"] < 0.05 and set(result["p_values"]) == {*EMOTIONS, "mean"}
    table = comparison_table(result)
    assert list(table["emotion"]) == [*EMOTIONS, "mean"]
    assert table.loc[6, "p (paired bootstrap)"] in ("< 0.001", "0.002", "0.004")
    with pytest.raises(gr.Error, match="has no scored submission"):  # another team's entries are not yours
        tab.compare_api(other, "", "test", entries[0].id, entries[1].id, None)
    tab.compare_api(token, "", "test", entries[1].id, entries[0].id, None)  # 2 submissions + 2 comparisons
    with pytest.raises(gr.Error, match="has used its 4 scored submissions"):
        tab.compare_api(token, "", "test", entries[0].id, entries[1].id, None)


def test_blend_scores_the_average_as_a_counted_submission(setup):
    board, tab, token, _, truth, preds, entries = setup
    blended = tab.blend_api(token, "", "test", f"#{entries[0].id}, {entries[1].id}", None)
    shown = public_mask(IDS)
    expected = score_arrays(np.mean(preds, axis=0)[shown], truth[shown])
    assert blended["mean_pearson"] == pytest.approx(expected.mean_pearson, abs=1e-9)
    assert blended["description"].startswith("blend of #1 + #2") and blended["team"] == "Team A"
    with pytest.raises(gr.Error, match="already submitted"):
        tab.blend_api(token, "", "test", "1 2", None)
    with pytest.raises(gr.Error, match="at least two"):
        tab.blend_api(token, "", "test", "1", None)
    with pytest.raises(gr.Error, match="whole numbers"):
        parse_ids("1; drop table")


def test_final_picks_then_close_reveal_the_private_scores(setup):
    board, tab, token, _, truth, preds, entries = setup
    table, caption = tab.pick_ui(token, "", "test", str(entries[1].id), None)
    assert "Final picks: #2" in caption and list(table["final pick"]) == ["yes", ""]
    board.close("test")
    found = tab.my_submissions_api(token, "", "test", None)
    assert found["closed"] and all(entry["private_mean_pearson"] is not None for entry in found["entries"])
    final = board.ranking("test")
    assert final[0].entry.id == entries[1].id and final[0].ranked_on == "private"
    private = ~public_mask(IDS)
    assert final[0].score == pytest.approx(score_arrays(preds[1][private], truth[private]).mean_pearson, abs=1e-12)
    assert my_table(board.entries("test", "Team A")).loc[0, "final r"] != ""
    with pytest.raises(gr.Error, match="closed"):
        tab.pick_final_api(token, "", "test", "1", None)
