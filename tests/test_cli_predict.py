"""``emi predict``: JSON, challenge CSV, timelines, batches that survive a bad file."""

from __future__ import annotations

import csv
import json
import shutil

from emi_core.emotions import CSV_HEADER, CSV_HEADER_LINE, EMOTIONS
from emi_core.models.prior import PRIOR_NAME
from tests.cli_tools import assert_one_line_error, run_emi


def test_predict_one_clip_json(media):
    proc = run_emi("predict", media("cremad_1001_talk_happy_m.mp4"), "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["source"] == "cremad_1001_talk_happy_m.mp4"
    assert result["model"]["name"] == PRIOR_NAME
    assert set(result["fused"]) == set(EMOTIONS)


def test_predict_table_names_the_model(media):
    proc = run_emi("predict", media("cremad_1002_sad_f.wav"))
    assert proc.returncode == 0, proc.stderr
    assert PRIOR_NAME in proc.stdout
    assert "visual     — (no input)" in proc.stdout


def test_predict_folder_with_a_bad_file(media, tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    shutil.copy(media("cremad_1001_talk_happy_m.mp4"), videos / "00001.mp4")
    shutil.copy(media("cremad_1002_sad_f.wav"), videos / "00002.wav")
    (videos / "00003.mp4").write_bytes(b"\x00" * 1000)
    (videos / "notes.txt").write_text("ignored: not media")
    out = tmp_path / "out" / "submission.csv"
    timelines = tmp_path / "timelines"
    annotated = tmp_path / "annotated"
    proc = run_emi(
        "predict", videos, "--json", "--csv", out, "--timeline-dir", timelines, "--annotate", annotated, "--no-progress"
    )
    assert proc.returncode == 2
    assert "00003.mp4" in proc.stderr and "1 of 3 clips failed" in proc.stderr
    entries = json.loads(proc.stdout)
    assert [e["source"] for e in entries] == ["00001.mp4", "00002.wav", "00003.mp4"]
    assert "error" in entries[2] and "fused" in entries[0]

    text = out.read_text(encoding="utf-8")
    assert text.splitlines()[0] == CSV_HEADER_LINE
    rows = list(csv.DictReader(text.splitlines()))
    assert [r["Filename"] for r in rows] == ["00001", "00002"]
    meta = json.loads(out.with_suffix(".meta.json").read_text())
    assert meta["model"]["name"] == PRIOR_NAME
    assert meta["not_written"]["failed"][0]["source"] == "00003.mp4"

    validate = run_emi("score", "--validate", out)
    assert validate.returncode == 0, validate.stderr

    assert sorted(p.name for p in annotated.iterdir()) == ["00001.annotated.mp4"]  # videos only

    timeline = (timelines / "00001.timeline.csv").read_text().splitlines()
    assert timeline[0] == ",".join(["channel", "time_s", *CSV_HEADER[1:]])
    assert {line.split(",")[0] for line in timeline[1:]} == {"visual", "audio", "text", "fused"}


def test_predict_single_bad_file_is_one_line(tmp_path):
    bad = tmp_path / "x.mp4"
    bad.write_bytes(b"")
    assert_one_line_error(run_emi("predict", bad), "x.mp4", "empty")


def test_predict_unknown_model_is_one_line(media, tmp_path):
    proc = run_emi("predict", media("cremad_1002_sad_f.wav"), "--model", tmp_path / "no-such-checkpoint")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "no-such-checkpoint" in proc.stderr
