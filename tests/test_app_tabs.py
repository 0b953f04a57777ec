"""Score, Leaderboard and About tabs, upload handling and serving options, without a server."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from scipy.stats import pearsonr

from demo import about, app, leaderboard, score
from demo.uploads import ExampleClips, ResultFiles, forget_upload
from emi_core.emotions import EMOTIONS
from emi_core.leaderboard import Leaderboard
from emi_core.leaderboard.identity import Identities
from emi_core.leaderboard.ratelimit import RateLimiter
from emi_core.result import ModelInfo
from emi_core.scoring import write_submission

N = 40


@pytest.fixture()
def truth(tmp_path):
    """A ground-truth CSV and its values (made here; never a real annotation)."""
    rng = np.random.default_rng(7)
    ids = [f"{i:05d}" for i in range(N)]
    values = rng.random((N, 6))
    return write_submission(tmp_path / "truth.csv", ids, values), ids, values


@pytest.fixture()
def prediction(tmp_path, truth):
    _, ids, values = truth
    noisy = np.clip(values + np.random.default_rng(8).normal(0, 0.2, values.shape), 0, 1)
    return write_submission(tmp_path / "pred.csv", ids[::-1], noisy[::-1]), noisy


@pytest.fixture()
def board(tmp_path, truth, monkeypatch):
    monkeypatch.delenv("EMI_GROUND_TRUTH_TEST", raising=False)
    return Leaderboard(tmp_path / "store", ground_truth={"val": truth[0]})


@pytest.fixture()
def no_examples():
    return ExampleClips([])


def score_tab(board: Leaderboard, examples: ExampleClips) -> score.ScoreTab:
    """The Score tab with team tokens (the default identity mode) and a generous rate limit."""
    return score.ScoreTab(board, examples, Identities("token", board.member_for_token), RateLimiter(1000))


def test_invalid_file_lists_every_problem_with_its_line(board):
    raw = f"Filename,{','.join(EMOTIONS)}\n42,0.1,0.2,0.3,0.4,0.5,0.6\n00002,0.1,x,0.3,0.4,0.5,1.6\n".encode()
    outcome = score.check_submission(board, raw, "val")
    assert outcome["status"] == score.INVALID and outcome["report"] is None
    where = [(p["line"], p["column"]) for p in outcome["problems"]]
    assert (2, "Filename") in where and (3, "Amusement") in where and (3, "Joy") in where
    table = score.problems_table(outcome["problems"])
    assert list(table.columns) == ["line", "column", "problem"] and "2" in list(table["line"])


def test_valid_file_without_ground_truth_is_checked_and_says_how_to_score(board, prediction):
    outcome = score.check_submission(board, prediction[0].read_bytes(), "test")
    assert outcome["status"] == score.VALID and outcome["problems"] == [] and outcome["n_rows"] == N
    assert "EMI_GROUND_TRUTH_TEST" in outcome["message"]


def test_scored_file_matches_an_independent_pearson(board, truth, prediction):
    outcome = score.check_submission(board, prediction[0].read_bytes(), "val")
    assert outcome["status"] == score.SCORED
    expected = [pearsonr(prediction[1][:, i], truth[2][:, i])[0] for i in range(6)]
    report = outcome["report"]
    assert [report["per_emotion"][e] for e in EMOTIONS] == pytest.approx(expected, abs=1e-12)
    assert report["mean_pearson"] == pytest.approx(np.mean(expected), abs=1e-12)
    assert report["n"] == N


def test_score_then_submit_puts_the_team_on_the_leaderboard(board, prediction, no_examples):
    tab = score_tab(board, no_examples)
    token = board.add_team("  Team  A ")
    headline, problems, bars, pending, submit_button, cleared, _ = tab.score_ui(str(prediction[0]), "val", None)
    assert headline.startswith("**Scored: pred.csv**") and pending["split"] == "val"
    assert bars.visible and not problems.visible and submit_button.interactive and cleared is None
    message, pending_after, _ = tab.submit_ui(pending, token, "", "ResNet + AU", None)
    assert "Submitted as **#1** for **Team A**" in message and pending_after is None
    with pytest.raises(gr.Error, match="already submitted"):
        tab.submit_ui(pending, token, "", "", None)
    rows = leaderboard.ranking_rows(board, "val")
    assert [(r["rank"], r["team"], r["submissions"]) for r in rows] == [(1, "Team A", 1)]
    assert rows[0]["mean_pearson"] == pytest.approx(board.entries("val")[0].mean_pearson)


def test_store_refusals_and_unknown_splits_are_one_line_messages(tmp_path, truth, prediction, no_examples):
    board = Leaderboard(tmp_path / "limited", ground_truth={"val": truth[0]}, daily_limit=1)
    tab = score_tab(board, no_examples)
    token = board.add_team("Team A")
    first = tab.score_ui(str(prediction[0]), "val", None)[3]
    tab.submit_ui(first, token, "", "", None)
    other = write_submission(tmp_path / "other.csv", truth[1], np.full((N, 6), 0.5) + np.eye(N, 6) * 0.1)
    second = tab.score_ui(str(other), "val", None)[3]
    with pytest.raises(gr.Error, match="used its 1 scored submissions"):
        tab.submit_ui(second, token, "", "", None)
    with pytest.raises(gr.Error, match="unknown split 'train'"):
        tab.score_api(str(other), "train", None)
    with pytest.raises(gr.Error, match="unknown split 'train'"):
        leaderboard.LeaderboardTab(board, ResultFiles()).leaderboard_api("train", False)


def test_only_checked_valid_files_can_be_submitted(board, no_examples):
    with pytest.raises(gr.Error, match="Check a file first"):
        score_tab(board, no_examples).submit_ui(None, board.add_team("Team A"), "", "", None)


def test_leaderboard_table_and_safe_export(board, truth, tmp_path):
    _, ids, values = truth
    for name, noise in (("=cmd", 0.1), ("Team B", 0.3)):
        noisy = np.clip(values + np.random.default_rng(len(name)).normal(0, noise, values.shape), 0, 1)
        path = write_submission(tmp_path / f"{noise}.csv", ids, noisy)
        board.submit("Team B" if name == "Team B" else "Alpha", "val", path, name)
    tab = leaderboard.LeaderboardTab(board, ResultFiles())
    table, caption, export = tab.refresh("val", False)
    assert list(table.columns) == leaderboard.DISPLAY_COLUMNS
    assert list(table["team"]) == ["Alpha", "Team B"]
    assert table.loc[0, "p vs #1"] == "—" and table.loc[1, "p vs #1"] == "< 0.001"
    assert " – " in table.loc[0, "95% CI"]
    assert "2 teams" in caption
    narrow, _, _ = tab.refresh("val", False, ["subs"], "last 24 hours")
    assert list(narrow.columns) == ["#", "team", "mean r", "subs"] and len(narrow) == 2
    old, _, _ = tab.refresh("val", False, None, "any time")
    assert len(old) == 2
    with open(export, encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["description"] for row in rows} == {"'=cmd", "Team B"}  # formula neutralised
    api = tab.leaderboard_api("val", True)
    assert api["all_submissions"] and [row["team"] for row in api["rows"]] == ["Alpha", "Team B"]


def test_forget_upload_deletes_only_user_uploads(tmp_path, monkeypatch):
    uploads = tmp_path / "gradio"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(uploads))
    example = tmp_path / "examples" / "clip.mp4"
    example.parent.mkdir()
    example.write_bytes(b"example bytes")
    examples = ExampleClips([example])
    upload = uploads / "abc" / "mine.mp4"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"private")
    copy = uploads / "def" / "clip.mp4"
    copy.parent.mkdir()
    copy.write_bytes(b"example bytes")
    outside = tmp_path / "elsewhere.mp4"
    outside.write_bytes(b"not an upload")

    assert forget_upload(str(upload), examples) and not upload.exists() and not upload.parent.exists()
    assert not forget_upload(str(copy), examples) and copy.exists()
    assert not forget_upload(str(outside), examples) and outside.exists()
    assert not forget_upload(None, examples)


def test_result_folders_are_pruned_when_old(tmp_path):
    files = ResultFiles(tmp_path / "results", max_age_s=60)
    (tmp_path / "results").mkdir()
    old = files.new_folder()
    past = time.time() - 120
    os.utime(old, (past, past))
    fresh = files.new_folder()
    files.prune()
    assert not old.exists() and fresh.exists()


def test_result_folders_are_pruned_without_new_requests(tmp_path):
    files = ResultFiles(tmp_path, max_age_s=1.0)
    folder = files.new_folder()
    deadline = time.time() + 10
    while folder.exists() and time.time() < deadline:
        time.sleep(0.2)
    assert not folder.exists()


def test_a_new_run_removes_the_folders_of_dead_processes(tmp_path, monkeypatch):
    from demo.uploads import RunFolders

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    leftovers = [tmp_path / "gradio" / f"emi-run-{dead.pid}-abc", tmp_path / "tmp" / f"emi-run-{dead.pid}-def"]
    alive = tmp_path / "gradio" / f"emi-run-{os.getppid()}-xyz"
    for folder in (*leftovers, alive):
        (folder / "sub").mkdir(parents=True)
        (folder / "sub" / "clip.mp4").write_bytes(b"private")
    folders = RunFolders()
    assert not any(folder.exists() for folder in leftovers) and alive.exists()
    assert folders.uploads.parent == tmp_path / "gradio" and folders.results.parent == tmp_path / "tmp"
    folders.cleanup()
    assert not folders.uploads.exists() and not folders.results.exists()


def test_launch_options_default_and_environment(monkeypatch, tmp_path):
    for name in ("GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT", "EMI_GROUND_TRUTH_VAL", "EMI_GROUND_TRUTH_TEST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EMI_SUBMISSIONS_DIR", str(tmp_path / "store"))
    options = app.launch_options()
    assert (options["server_name"], options["server_port"]) == ("127.0.0.1", 7860)
    assert options["allowed_paths"] == [] and options["show_error"] is False and options["run_history"] is False
    assert options["blocked_paths"] == [str((tmp_path / "store").resolve())]
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7001")
    monkeypatch.setenv("EMI_GROUND_TRUTH_VAL", str(tmp_path / "secret" / "val.csv"))
    options = app.launch_options()
    assert (options["server_name"], options["server_port"]) == ("0.0.0.0", 7001)
    assert str((tmp_path / "secret" / "val.csv").resolve()) in options["blocked_paths"]


def test_about_says_what_the_prior_voice_channel_rests_on():
    def texts(model: ModelInfo) -> str:
        with gr.Blocks() as page:
            about.build_about(model)
        return "\n".join(str(block.value) for block in page.blocks.values() if isinstance(block, gr.Markdown))

    prior = ModelInfo("emi-prior", "EMI prior", "0", "heuristic", "MIT", "builtin:emi-prior")
    assert "Its voice channel" in texts(prior) and "Silero VAD" in texts(prior)
    trained = ModelInfo("m", "my-emi-model", "1", "trained", "other", "org/model")
    assert "Its voice channel" not in texts(trained)


def test_model_card_of_the_prior_and_of_a_checkpoint(tmp_path):
    prior = ModelInfo("emi-prior", "EMI prior", "0", "heuristic", "MIT", "builtin:emi-prior")
    assert "heuristic, not trained on Hume-Vidmimic2" in about.model_card_markdown(prior)
    checkpoint = tmp_path / "ckpt"
    checkpoint.mkdir()
    (checkpoint / "README.md").write_text("---\nlicense: other\n---\n\n# my-emi-model\nResults.\n")
    trained = ModelInfo("m", "my-emi-model", "1", "trained", "other", str(checkpoint))
    assert about.model_card_markdown(trained) == "# my-emi-model\nResults."
    elsewhere = ModelInfo("m", "hub model", "1", "trained", "other", "org/model", validation_mean_pearson=0.3)
    card = about.model_card_markdown(elsewhere)
    assert card.startswith("# hub model") and "0.3000" in card


def test_examples_are_redistributable_clips_with_credits():
    clips = app.example_clips().paths
    assert {path.name for path in clips} == {
        "grid_s1_bbaf2n_talk_neutral_m.mp4",
        "grid_brbk7n_talk_neutral_f.mp4",
        "obama_weekly_address_talk_neutral_12s.mp4",
    }
    credits = Path(about.EXAMPLES_README).read_text()
    assert "CC BY 4.0" in credits and "10.5281/zenodo.3625687" in credits and "public" in credits.lower()


def built_estimate_tab(views=None):
    """An Estimate tab on the offline prior, built inside a Blocks (not served)."""
    from demo.estimate import EstimateTab
    from emi_core.pipeline import EMIPipeline

    tab = EstimateTab(EMIPipeline.from_pretrained("default"), ExampleClips([]), ResultFiles(), views=views)
    with gr.Blocks():
        tab.build()
    return tab


@pytest.fixture()
def toasts(monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(gr, "Warning", lambda message: shown.append(message))
    return shown


@pytest.fixture()
def own_uploads(monkeypatch):
    """Treat files in tmp_path as uploads (deleted once analysed), as Gradio's upload folder is."""
    monkeypatch.setattr("demo.estimate.forget_upload", lambda path, examples: bool(path) and not Path(path).unlink())


def test_estimate_button_can_add_the_annotated_video(media, tmp_path, toasts, own_uploads):
    """The opt-in annotated video joins the downloads and the page; the upload is still deleted;
    audio-only gets none."""
    from emi_core.media import load_clip

    tab = built_estimate_tab()
    upload = tmp_path / "upload.mp4"
    upload.write_bytes(media("cremad_1001_talk_happy_m.mp4").read_bytes())

    outputs = tab.estimate_ui(str(upload), None, True, progress=None)
    downloads = [Path(p) for p in outputs[tab.parts["downloads"]]]
    assert [p.suffix for p in downloads] == [".json", ".csv", ".csv", ".srt", ".mp4"]
    assert load_clip(downloads[-1], fps=5).audio is not None
    annotated = outputs[tab.parts["annotated"]]
    assert annotated["visible"] and Path(annotated["value"]).name == downloads[-1].name
    assert not upload.exists()

    voice = tmp_path / "voice.wav"
    voice.write_bytes(media("cremad_1002_sad_f.wav").read_bytes())
    outputs = tab.estimate_ui(None, str(voice), True, progress=None)
    assert all(not p.endswith(".mp4") for p in outputs[tab.parts["downloads"]])
    assert not outputs[tab.parts["annotated"]]["visible"]


def test_a_failed_estimate_keeps_its_message_and_clears_every_output(media, tmp_path, toasts, own_uploads):
    tab = built_estimate_tab()
    nothing = tab.estimate_ui(None, None, False, progress=None)
    assert set(tab.result_outputs()) <= set(nothing)
    assert nothing[tab.parts["summary"]].startswith("**Not analysed:** upload or record a video")
    assert nothing[tab.parts["result_json"]] is None and nothing[tab.parts["downloads"]] is None

    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00not a video" * 100)
    failed = tab.estimate_ui(str(corrupt), None, False, progress=None)
    summary = failed[tab.parts["summary"]]
    assert summary.startswith("**Not analysed:** ") and "corrupt.mp4" in summary and "deleted" in summary
    assert "/" not in summary.split("corrupt.mp4")[0]  # no server path
    assert not failed[tab.parts["timeline"]].data and failed[tab.parts["numbers"]] is None
    assert not corrupt.exists()

    good = tmp_path / "good.wav"
    good.write_bytes(media("cremad_1002_sad_f.wav").read_bytes())
    after = tab.estimate_ui(None, str(good), False, progress=None)
    assert after[tab.parts["result_json"]]["source"] == "good.wav"


def test_both_inputs_warning_stays_in_the_list(media, tmp_path, toasts, own_uploads):
    tab = built_estimate_tab()
    video, voice = tmp_path / "v.mp4", tmp_path / "a.wav"
    video.write_bytes(media("cremad_1001_talk_happy_m.mp4").read_bytes())
    voice.write_bytes(media("cremad_1002_sad_f.wav").read_bytes())
    outputs = tab.estimate_ui(str(video), str(voice), False, progress=None)
    assert "both a video and an audio clip were given" in outputs[tab.parts["warnings"]]
    assert outputs[tab.parts["result_json"]]["source"] == "v.mp4"
    assert not video.exists() and not voice.exists()


def test_extra_views_are_shown_and_cleared_in_their_slot(media, tmp_path, toasts, own_uploads):
    class SourceView:
        def build(self):
            self.box = gr.Textbox(label="source")

        def outputs(self):
            return [self.box]

        def show(self, data):
            return {self.box: data["source"]}

        def clear(self):
            return {self.box: ""}

    view = SourceView()
    tab = built_estimate_tab({"under_timeline": [view]})
    assert view.box in tab.result_outputs()
    voice = tmp_path / "voice.wav"
    voice.write_bytes(media("cremad_1002_sad_f.wav").read_bytes())
    assert tab.estimate_ui(None, str(voice), False, progress=None)[view.box] == "voice.wav"
    assert tab.cleared()[view.box] == ""
    with pytest.raises(ValueError, match="unknown Estimate tab slot"):
        built_estimate_tab({"sidebar": [view]})
