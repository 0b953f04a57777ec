"""The launched app through its named API endpoints (``gradio_client``), and what it refuses to serve."""

from __future__ import annotations

import csv
import json
import wave

import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from scipy.stats import pearsonr

from emi_core.emotions import EMOTIONS
from emi_core.leaderboard import Leaderboard
from emi_core.scoring import write_submission
from tests.app_server import TRUTH_IDS, running_app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("app")) as running:
        yield running


@pytest.fixture(scope="module")
def client(server):
    return Client(server.url, verbose=False, download_files=False)


def uploads_named(server, name: str) -> list:
    """Files with this name left in Gradio's upload folder."""
    return list(server.upload_dir.rglob(name))


def truth_cells(server) -> list[str]:
    """Every value cell of the ground-truth file, as written."""
    with server.truth.open() as handle:
        return [cell for row in list(csv.reader(handle))[1:] for cell in row[1:]]


def test_exactly_the_named_endpoints(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert set(endpoints) == {
        "/estimate", "/score", "/submit", "/leaderboard", "/my_submissions", "/pick_final", "/compare", "/blend"
    }


def test_estimate_a_talking_clip_and_forget_it(client, server, media):
    result = client.predict(handle_file(str(media("cremad_1001_talk_angry_m.mp4"))), api_name="/estimate")
    assert result["source"] == "cremad_1001_talk_angry_m.mp4"
    for channel in ("visual", "audio", "fused"):
        assert list(result[channel]) == list(EMOTIONS)
        assert all(0.0 <= value <= 1.0 for value in result[channel].values())
    assert result["model"]["kind"] == "heuristic" and result["model"]["id"] == "emi-prior"
    assert result["quality"]["has_video"] and result["quality"]["has_audio"]
    assert set(result["timeline"]) == {"visual", "audio", "text", "fused"}
    assert result["transcript"]["language"] == "en" and result["transcript"]["segments"]
    assert result["action_units"]["names"]
    assert uploads_named(server, "cremad_1001_talk_angry_m.mp4") == []  # deleted once analysed


def test_two_clips_at_once_both_succeed(client, media):
    jobs = [
        client.submit(handle_file(str(media(name))), api_name="/estimate")
        for name in ("grid_two_faces_lbax4n_lbbc2a.mp4", "cremad_1001_talk_happy_m.mp4")
    ]
    two_faces, happy = (job.result(timeout=120) for job in jobs)
    assert (
        two_faces["source"] == "grid_two_faces_lbax4n_lbbc2a.mp4" and happy["source"] == "cremad_1001_talk_happy_m.mp4"
    )
    assert any("faces in view" in warning for warning in two_faces["warnings"])


def test_estimate_a_silent_clip_uses_the_face_only(client, media):
    result = client.predict(handle_file(str(media("cremad_1001_talk_happy_no_audio.mp4"))), api_name="/estimate")
    assert result["audio"] is None and result["timeline"]["audio"] is None
    assert result["fused"] == result["visual"]
    assert any("no audio" in warning for warning in result["warnings"])


def test_estimate_an_audio_only_file(client, media):
    result = client.predict(handle_file(str(media("cremad_1002_happy_f.wav"))), api_name="/estimate")
    assert result["visual"] is None and result["action_units"] is None
    for emotion, fused in result["fused"].items():  # the average of the channels with input: audio and text
        assert fused == pytest.approx((result["audio"][emotion] + result["text"][emotion]) / 2, abs=1e-4)


def test_estimate_cuts_a_long_clip_to_the_public_limit(client, tmp_path):
    rate, seconds = 16_000, 65
    t = np.arange(rate * seconds) / rate
    tone = (0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 0.5 * t)) / 2 * 32767).astype("<i2")
    long_clip = tmp_path / "long_tone.wav"
    with wave.open(str(long_clip), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(tone.tobytes())
    result = client.predict(handle_file(str(long_clip)), api_name="/estimate")
    assert result["quality"]["truncated"] and result["quality"]["duration_s"] <= 60.0
    assert any("cut to the first 60 s" in warning for warning in result["warnings"])


def test_estimate_a_corrupt_file_gives_one_clear_line(client, server, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"not really a video" * 50)
    with pytest.raises(AppError) as caught:
        client.predict(handle_file(str(broken)), api_name="/estimate")
    message = str(caught.value)
    assert "broken.mp4" in message and "\n" not in message.strip() and "Traceback" not in message
    assert uploads_named(server, "broken.mp4") == []  # deleted although it failed


def test_score_an_invalid_csv_lists_the_problems(client, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(f"Filename,{','.join(EMOTIONS)}\n00001,0.1,0.2,0.3,0.4,0.5\n00002,0.1,0.2,0.3,0.4,0.5,nan\n")
    outcome = client.predict(handle_file(str(bad)), "val", api_name="/score")
    assert outcome["status"] == "invalid" and outcome["report"] is None
    assert {problem["line"] for problem in outcome["problems"]} == {2, 3}


def test_score_a_valid_csv_against_the_configured_truth(client, server, tmp_path):
    rng = np.random.default_rng(3)
    values = np.clip(server.truth_values + rng.normal(0, 0.1, server.truth_values.shape), 0, 1)
    path = write_submission(tmp_path / "good.csv", TRUTH_IDS, values)
    outcome = client.predict(handle_file(str(path)), "val", api_name="/score")
    assert outcome["status"] == "scored" and outcome["problems"] == []
    expected = [pearsonr(values[:, i], server.truth_values[:, i])[0] for i in range(6)]
    assert outcome["report"]["mean_pearson"] == pytest.approx(np.mean(expected), abs=1e-12)
    assert outcome["report"]["n"] == len(TRUTH_IDS)


def test_score_on_the_hidden_split_validates_only(client, tmp_path):
    """The audit's oracle: one-hot probes to /score on the hidden split all get the same reply, no number."""
    replies = []
    for k in range(3):
        values = np.zeros((len(TRUTH_IDS), 6))
        values[k] = 1.0
        path = write_submission(tmp_path / f"probe{k}.csv", TRUTH_IDS, values)
        replies.append(client.predict(handle_file(str(path)), "test", api_name="/score"))
    assert replies[0]["status"] == "valid" and replies[0]["report"] is None and replies[0]["hidden"]
    assert all(reply == replies[0] for reply in replies)
    partial = write_submission(tmp_path / "partial.csv", TRUTH_IDS[:10], np.full((10, 6), 0.5))
    reply = client.predict(handle_file(str(partial)), "test", api_name="/score")
    assert [problem["message"] for problem in reply["problems"]] == ["20 ground-truth ids are missing"]


def test_submit_needs_a_valid_team_token(client, server, tmp_path):
    token = Leaderboard(server.store_dir).add_team("Team Token")
    values = np.clip(server.test_truth_values + np.random.default_rng(8).normal(0, 0.1, (len(TRUTH_IDS), 6)), 0, 1)
    path = write_submission(tmp_path / "official.csv", TRUTH_IDS, values)
    for forged in ("", token[:-3] + "abc", "Team Token"):
        with pytest.raises(AppError, match="team token"):
            client.predict(handle_file(str(path)), "test", forged, "Team Token", "", api_name="/submit")
    entry = client.predict(handle_file(str(path)), "test", token, "", "official run", api_name="/submit")
    assert entry["team"] == "Team Token" and entry["status"] == "scored" and entry["hidden"]
    assert entry["private_mean_pearson"] is None and entry["file"].startswith("files/")
    with pytest.raises(AppError, match="ground truth of the split"):
        client.predict(handle_file(str(server.test_truth)), "test", token, "", "", api_name="/submit")
    assert "official.csv" not in {p.name for p in server.upload_dir.rglob("*")}


def test_leaderboard_after_a_submission(client, server, tmp_path):
    values = np.clip(server.truth_values + np.random.default_rng(5).normal(0, 0.2, (len(TRUTH_IDS), 6)), 0, 1)
    path = write_submission(tmp_path / "team.csv", TRUTH_IDS, values)
    entry = Leaderboard(server.store_dir, ground_truth={"val": server.truth}).submit("Team API", "val", path, "x")
    table = client.predict("val", False, api_name="/leaderboard")
    assert table["split"] == "val"
    (row,) = [row for row in table["rows"] if row["team"] == "Team API"]
    assert row["mean_pearson"] == pytest.approx(entry.mean_pearson) and row["submissions"] == 1
    assert len(row["ci95"]) == 2 and list(row["per_emotion"]) == list(EMOTIONS)


def test_ground_truth_cannot_be_fetched_or_read_through_the_app(client, server):
    path = str(server.truth)
    with httpx.Client(base_url=server.url) as http:
        for route in (f"gradio_api/file={path}", f"gradio_api/file/{path.lstrip('/')}", f"file={path}"):
            response = http.get(route)
            assert response.status_code in (403, 404), route
            assert "Admiration" not in response.text
        # a forged API call naming the file as if it had been uploaded is refused
        call = http.post(
            "gradio_api/call/score", json={"data": [{"path": path, "meta": {"_type": "gradio.FileData"}}, "val"]}
        )
        stream = http.get(f"gradio_api/call/score/{call.json()['event_id']}").text
        assert "event: error" in stream and "scored" not in stream
        pages = [http.get(route).text for route in ("", "config", "gradio_api/info")]
    table = client.predict("val", True, api_name="/leaderboard")
    outputs = [json.dumps(table), stream, *pages]
    for text in outputs:
        assert path not in text and "val_truth.csv" not in text
        assert not [cell for cell in truth_cells(server) if cell in text]


def test_uploads_over_the_size_limit_are_refused(server, tmp_path):
    """A 201 MB upload (over the app's 200 MB max_file_size) is turned away and nothing is kept."""
    huge = tmp_path / "huge.mp4"
    with huge.open("wb") as handle:  # sparse: costs no disk
        handle.truncate(201 * 2**20)
    with huge.open("rb") as handle:
        response = httpx.post(f"{server.url}gradio_api/upload", files={"files": ("huge.mp4", handle)}, timeout=120)
    assert response.status_code == 413, response.text[:200]
    assert "huge.mp4" not in {p.name for p in server.upload_dir.rglob("*")}
