"""``emi inspect``: JSON facts about a clip, exit code 2 with one line for bad files."""

from __future__ import annotations

import json

import pytest

from tests.cli_tools import assert_one_line_error, run_emi


def test_inspect_talking_clip(media):
    proc = run_emi("inspect", media("grid_s1_bbaf2n_talk_neutral_m.mp4"))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["has_audio"] is True
    assert report["face_ratio"] > 0.9
    assert report["max_faces"] == 1
    assert report["frames_sampled"] == 30
    assert report["duration_s"] == pytest.approx(3.0)
    assert report["frame_rate"] == pytest.approx(25.0)
    assert report["audio_duration_s"] == pytest.approx(3.0, abs=0.05)
    assert report["warnings"] == []


def test_inspect_silent_and_no_face_clips(media):
    silent = json.loads(run_emi("inspect", media("cremad_1001_talk_happy_no_audio.mp4"), "--fps", "5").stdout)
    assert silent["has_audio"] is False and silent["audio_duration_s"] is None
    assert any("no audio track" in w for w in silent["warnings"])
    noface = json.loads(run_emi("inspect", media("synthetic_noface.mp4"), "--fps", "5").stdout)
    assert noface["face_ratio"] == 0.0
    assert any("no face" in w for w in noface["warnings"])


def test_inspect_two_faces(media):
    report = json.loads(run_emi("inspect", media("grid_two_faces_lbax4n_lbbc2a.mp4"), "--fps", "5").stdout)
    assert report["max_faces"] == 2
    assert any("2 faces" in w for w in report["warnings"])


def test_inspect_audio_only(media):
    report = json.loads(run_emi("inspect", media("cremad_1002_angry_f.wav")).stdout)
    assert report["frames_sampled"] == 0 and report["face_ratio"] is None
    assert report["has_audio"] is True


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("empty.mp4", b"", "empty"),
        ("junk.mp4", b"\x00\x01garbage" * 1000, "corrupt"),
        ("a.gif", b"GIF89a", "unsupported"),
    ],
)
def test_inspect_bad_files_exit_2_with_one_line(tmp_path, name, content, fragment):
    path = tmp_path / name
    path.write_bytes(content)
    assert_one_line_error(run_emi("inspect", path), name, fragment)


def test_inspect_limits_from_the_command_line(media):
    proc = run_emi("inspect", media("obama_weekly_address_talk_neutral_12s.mp4"), "--max-duration", "4")
    assert_one_line_error(proc, "12.0 s long; the limit is 4 s")
    proc = run_emi(
        "inspect", media("obama_weekly_address_talk_neutral_12s.mp4"), "--max-duration", "4", "--truncate", "--fps", "2"
    )
    report = json.loads(proc.stdout)
    assert report["frames_sampled"] == 8
    assert any("cut to the first 4 s" in w for w in report["warnings"])


def test_missing_file(tmp_path):
    assert_one_line_error(run_emi("inspect", tmp_path / "missing.mp4"), "file not found")


def test_version_and_help():
    assert run_emi("--version").stdout.startswith("emi ")
    assert "inspect" in run_emi("--help").stdout
