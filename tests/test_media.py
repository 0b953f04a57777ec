"""Decoding real clips, the formats users upload, and every bad-file path."""

from __future__ import annotations

import re

import numpy as np
import pytest

from emi_core.errors import MediaError
from emi_core.media import AUDIO_SAMPLE_RATE, MediaLimits, iter_frames, load_clip, open_media, probe
from tests.media_tools import convert, ffmpeg

TALKING = "grid_s1_bbaf2n_talk_neutral_m.mp4"


def test_talking_clip_decodes_frames_and_audio(media):
    clip = load_clip(media(TALKING), fps=10)
    assert clip.frames.shape == (30, 288, 360, 3)
    assert clip.frames.dtype == np.uint8
    np.testing.assert_allclose(clip.timestamps[:3], [0.0, 0.1, 0.2])
    assert clip.audio.dtype == np.float32
    assert clip.audio.ndim == 1
    assert abs(len(clip.audio) / AUDIO_SAMPLE_RATE - 3.0) < 0.05
    assert 0.01 < np.abs(clip.audio).max() <= 1.0
    assert clip.warnings == []
    assert clip.frames.mean() > 20  # real picture, not black frames


def test_native_rate_is_used_and_capped(media):
    clip = load_clip(media("cremad_1001_talk_happy_m.mp4"))
    assert clip.fps == pytest.approx(29.97)
    assert len(clip.frames) == pytest.approx(1.91 * 29.97, abs=2)
    capped = load_clip(media("cremad_1001_talk_happy_m.mp4"), limits=MediaLimits(max_fps=12))
    assert capped.fps == 12


def test_silent_clip_has_no_audio_and_a_warning(media):
    clip = load_clip(media("cremad_1001_talk_happy_no_audio.mp4"), fps=10)
    assert clip.audio is None
    assert clip.frames is not None and len(clip.frames) > 10
    assert any("no audio track" in w for w in clip.warnings)


def test_wav_is_audio_only(media):
    clip = load_clip(media("cremad_1002_happy_f.wav"))
    assert clip.frames is None and clip.timestamps is None
    assert abs(clip.duration_s - 2.25) < 0.05
    assert clip.info.has_video is False


@pytest.mark.parametrize(
    ("suffix", "options"),
    [
        (".webm", ("-c:v", "libvpx", "-b:v", "300k", "-c:a", "libopus")),
        (".mkv", ("-c:v", "libx264", "-c:a", "aac")),
        (".mov", ("-c:v", "libx264", "-c:a", "aac")),
        (".avi", ("-c:v", "mpeg4", "-c:a", "libmp3lame")),
    ],
)
def test_container_formats(media, tmp_path, suffix, options):
    path = convert(media(TALKING), tmp_path / f"clip{suffix}", "-t", "1.5", *options)
    clip = load_clip(path, fps=10)
    assert clip.frames.shape[1:] == (288, 360, 3)
    assert 13 <= len(clip.frames) <= 16
    assert clip.audio is not None and abs(clip.duration_s - 1.5) < 0.15  # mp3 in avi pads a few ms


def test_browser_style_webm_without_duration(media, tmp_path):
    """MediaRecorder webm files carry no duration; decoding must still work and stay bounded."""
    path = tmp_path / "recorded.webm"
    with path.open("wb") as out:
        import subprocess

        from emi_core.media.ffmpeg import ffmpeg_exe

        command = [ffmpeg_exe(), "-loglevel", "error", "-i", str(media(TALKING)), "-c:v", "libvpx", "-c:a", "libopus",
                   "-f", "webm", "-live", "1", "pipe:1"]  # fmt: skip
        out.write(subprocess.run(command, capture_output=True, check=True).stdout)
    clip = load_clip(path, fps=10)
    assert len(clip.frames) >= 28
    with pytest.raises(MediaError, match="longer than the limit of 1 s"):
        load_clip(path, fps=10, limits=MediaLimits(max_duration_s=1))


@pytest.mark.parametrize(
    ("suffix", "options"), [(".mp3", ()), (".m4a", ("-c:a", "aac")), (".ogg", ("-c:a", "libvorbis"))]
)
def test_audio_formats(media, tmp_path, suffix, options):
    path = convert(media("cremad_1002_sad_f.wav"), tmp_path / f"voice{suffix}", *options)
    clip = load_clip(path)
    assert clip.frames is None
    assert abs(clip.duration_s - 2.4) < 0.1


def test_rotated_phone_clip_is_upright_portrait(media, tmp_path):
    rotated = tmp_path / "portrait.mp4"
    ffmpeg("-display_rotation", "90", "-i", media(TALKING), "-c", "copy", rotated)
    info = probe(rotated)
    assert info.rotation in (90, 270)
    assert (info.width, info.height) == (288, 360)
    clip = load_clip(rotated, fps=5)
    assert clip.frames.shape[1:] == (360, 288, 3)


def test_large_frames_are_downscaled(media):
    clip = load_clip(media("obama_weekly_address_talk_neutral_12s.mp4"), fps=2, limits=MediaLimits(max_side=200))
    assert clip.frames.shape[1:] == (200, 200, 3)


def test_iter_frames_streams_and_stops_early(media):
    source = open_media(media("obama_weekly_address_talk_neutral_12s.mp4"))
    frames = iter_frames(source, fps=10)
    first = [next(frames) for _ in range(3)]
    frames.close()
    assert [round(t, 3) for t, _ in first] == [0.0, 0.1, 0.2]


def test_too_long_is_rejected_or_truncated(media):
    with pytest.raises(MediaError, match=r"12\.0 s long; the limit is 5 s"):
        open_media(media("obama_weekly_address_talk_neutral_12s.mp4"), MediaLimits(max_duration_s=5))
    clip = load_clip(
        media("obama_weekly_address_talk_neutral_12s.mp4"), fps=2, limits=MediaLimits(max_duration_s=5, truncate=True)
    )
    assert clip.truncated
    assert abs(clip.duration_s - 5) < 0.3
    assert any("cut to the first 5 s" in w for w in clip.warnings)


def test_too_large_is_rejected(media):
    with pytest.raises(MediaError, match="the limit is 0 MiB"):
        open_media(media(TALKING), MediaLimits(max_file_mb=0.01))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.mp4", b"", "the file is empty"),
        (
            "random.mp4",
            bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8)),
            "corrupt or undecodable",
        ),
        ("notes.txt", b"hello", "unsupported format '.txt'"),
        ("noext", b"hello", "unsupported format 'no extension'"),
    ],
)
def test_bad_files_raise_one_line_media_errors(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(MediaError, match=message) as err:
        load_clip(path)
    assert "\n" not in str(err.value)
    assert name in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(MediaError, match="file not found"):
        load_clip(tmp_path / "nope.mp4")


def test_truncated_mp4_without_index(media, tmp_path):
    """A plain ffmpeg mp4 keeps its index (moov) at the end: cut in half, nothing can be decoded."""
    data = convert(media(TALKING), tmp_path / "plain.mp4", "-c", "copy").read_bytes()
    assert data.find(b"moov") > data.find(b"mdat")
    path = tmp_path / "truncated.mp4"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(MediaError, match="corrupt or undecodable") as err:
        load_clip(path)
    assert "\n" not in str(err.value)


def test_truncated_faststart_mp4_decodes_what_is_there_and_warns(media, tmp_path):
    data = media(TALKING).read_bytes()  # the shared clips are faststart (index first)
    assert data.find(b"moov") < data.find(b"mdat")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    clip = load_clip(cut, fps=10)
    assert 0 < len(clip.frames) < 30
    assert any(
        re.fullmatch(r"only 1\.\d s of 3\.0 s of video could be decoded \(the file may be truncated\)", w)
        for w in clip.warnings
    ), clip.warnings


def test_file_without_streams(tmp_path):
    """A Matroska file holding only subtitles: valid container, nothing to analyse."""
    subtitles = tmp_path / "only.srt"
    subtitles.write_text("1\n00:00:00,000 --> 00:00:01,000\nhello\n", encoding="utf-8")
    path = convert(subtitles, tmp_path / "subtitles_only.mkv")
    with pytest.raises(MediaError, match="subtitles_only.mkv: the file has no audio or video stream"):
        load_clip(path)


def test_no_face_synthetic_clip_decodes(media):
    clip = load_clip(media("synthetic_noface.mp4"), fps=10)
    assert len(clip.frames) == 50
    assert clip.audio is not None


def test_single_frame_video_decodes_its_frame(media, tmp_path):
    """A one-frame clip (e.g. a still exported as video) is shorter than one sampling period."""
    still = convert(media(TALKING), tmp_path / "still.mp4", "-frames:v", "1", "-an")
    clip = load_clip(still, fps=10)
    assert clip.frames.shape == (1, 288, 360, 3)
    np.testing.assert_allclose(clip.timestamps, [0.0])
