"""Bounded work per clip: the pixel budget is applied before decoding; absurd limits and option values are refused."""

from __future__ import annotations

import math

import pytest

from emi_core.errors import EMIError, MediaError
from emi_core.media import MediaLimits, load_clip, open_media
from emi_core.media import decode as decode_module
from tests.cli_tools import assert_one_line_error, run_emi
from tests.media_tools import ffmpeg

TALKING = "grid_s1_bbaf2n_talk_neutral_m.mp4"  # 360x288 at 25 fps, 3.0 s: 7.8 megapixels to decode


def forbid_decoding(monkeypatch) -> None:
    """Fail the test if :func:`load_clip` gets as far as decoding frames or audio."""

    def refuse(*args, **kwargs):
        raise AssertionError("a decoder was started")

    monkeypatch.setattr(decode_module, "iter_frames", refuse)
    monkeypatch.setattr(decode_module, "read_audio", refuse)


def test_a_clip_over_the_pixel_budget_is_refused_before_decoding(media, monkeypatch):
    forbid_decoding(monkeypatch)
    with pytest.raises(MediaError, match=r"360×288 video at 25 fps exceeds the limit of 5 megapixels per clip"):
        load_clip(media(TALKING), limits=MediaLimits(max_decoded_megapixels=5))


def test_truncate_cuts_to_what_the_budget_allows(media):
    limits = MediaLimits(max_decoded_megapixels=5, truncate=True)
    source = open_media(media(TALKING), limits)
    allowed = 5e6 / (360 * 288 * 25)
    assert source.truncated and source.decode_seconds == pytest.approx(allowed)
    assert any("decoding budget of 5 megapixels" in w for w in source.warnings)
    clip = load_clip(media(TALKING), fps=10, limits=limits)
    assert abs(len(clip.frames) - allowed * 10) <= 1
    assert clip.truncated and len(clip.audio) / clip.sample_rate == pytest.approx(allowed, abs=0.05)


def test_frames_over_the_size_limit_are_refused_before_decoding(tmp_path):
    path = tmp_path / "huge_frame.avi"
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:size=8192x4608:rate=1", "-frames:v", "1", "-c:v", "mjpeg", path)
    with pytest.raises(MediaError, match=r"8192×4608 frames exceed the limit of 36 megapixels per frame"):
        open_media(path)


@pytest.mark.slow
def test_a_small_file_of_8k_video_at_60_fps_costs_no_decoding(tmp_path, monkeypatch):
    """The audit's attack: a few hundred kB of 8K 60 fps video cost 20 s of CPU to analyse."""
    path = tmp_path / "8k60.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:size=7680x4320:rate=60:duration=2.5",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", path)  # fmt: skip
    assert path.stat().st_size < 1_000_000
    forbid_decoding(monkeypatch)
    with pytest.raises(MediaError, match="exceeds the limit of 4000 megapixels per clip"):
        load_clip(path)


def test_tiny_frames_still_count_a_minimum_in_the_budget(tmp_path):
    """A high frame rate of tiny frames is not free: each frame counts at least 65,536 pixels."""
    path = tmp_path / "tiny.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:size=16x16:rate=250:duration=1", "-c:v", "libx264", path)
    with pytest.raises(MediaError, match="megapixels per clip"):
        open_media(path, MediaLimits(max_decoded_megapixels=10))


@pytest.mark.parametrize(
    "options",
    [
        {"max_duration_s": math.nan},
        {"max_duration_s": math.inf},
        {"max_file_mb": -1.0},
        {"max_side": 0},
        {"max_side": 12},
        {"max_fps": 0.0},
        {"max_decoded_megapixels": math.nan},
    ],
)
def test_absurd_limits_are_refused(options):
    with pytest.raises(ValueError, match="must be"):
        MediaLimits(**options)


@pytest.mark.parametrize(
    ("command", "option", "value"),
    [
        ("inspect", "--fps", "-1"),
        ("inspect", "--fps", "nan"),
        ("predict", "--fps", "0"),
        ("inspect", "--max-size-mb", "nan"),
        ("inspect", "--max-duration", "nan"),
        ("inspect", "--max-duration", "-5"),
        ("inspect", "--max-side", "0"),
        ("inspect", "--max-side", "abc"),
        ("predict", "--max-megapixels", "inf"),
    ],
)
def test_absurd_option_values_give_one_line(media, command, option, value):
    proc = run_emi(command, media(TALKING), option, value)
    assert_one_line_error(proc, f"argument {option}: must be", value)


def test_unknown_options_and_commands_give_one_line():
    assert_one_line_error(run_emi("nonsense"), "invalid choice: 'nonsense'", "emi --help")
    assert_one_line_error(run_emi("inspect"), "the following arguments are required: clip")


def test_a_newline_in_a_file_name_cannot_split_the_error_line(tmp_path):
    path = tmp_path / "evil\nerror: forged line.mp4"
    path.write_bytes(b"\x00garbage" * 100)
    proc = run_emi("inspect", path)
    assert_one_line_error(proc, "evil\\nerror: forged line.mp4")


def test_error_messages_escape_control_characters():
    err = MediaError("clip\r\n\x1b[31mred.mp4: corrupt")
    assert str(err) == "clip\\r\\n\\x1b[31mred.mp4: corrupt"
    assert isinstance(err, EMIError)


def test_budget_leaves_ordinary_clips_alone(media):
    source = open_media(media("obama_weekly_address_talk_neutral_12s.mp4"))
    assert not source.truncated and source.decode_seconds == pytest.approx(12.0, abs=0.05)


def test_a_problem_list_stays_one_problem_per_line():
    """Problems of a CSV are listed one per line; a newline inside a cell cannot add a line."""
    from emi_core.scoring.problems import Problem, SubmissionError

    err = SubmissionError([Problem("'x\ny' is not a number", line=3, column="Joy"), Problem("bad", line=4)])
    assert str(err).splitlines() == [
        "submission has 2 problems:",
        "  line 3, column 'Joy': 'x\\ny' is not a number",
        "  line 4: bad",
    ]
