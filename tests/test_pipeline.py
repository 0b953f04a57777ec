"""The EMI pipeline with the offline EMI prior on real clips."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from emi_core.emotions import EMOTIONS
from emi_core.errors import MediaError
from emi_core.models.prior import PRIOR_NAME
from emi_core.pipeline import EMIPipeline
from tests.media_tools import convert


@pytest.fixture(scope="module")
def pipeline():
    return EMIPipeline.from_pretrained("default")


@pytest.fixture(scope="module")
def analyse(pipeline, media):
    cache = {}

    def _run(name):
        if name not in cache:
            cache[name] = pipeline(media(name))
        return cache[name]

    return _run


def _in_unit_interval(mapping):
    return mapping is not None and set(mapping) == set(EMOTIONS) and all(0.0 <= v <= 1.0 for v in mapping.values())


def test_default_model_is_the_labelled_prior(pipeline, monkeypatch):
    assert pipeline.model.name == PRIOR_NAME == "EMI prior — heuristic, not trained on Hume-Vidmimic2"
    assert pipeline.model.kind == "heuristic"
    monkeypatch.setenv("EMI_MODEL", "default")
    assert EMIPipeline.from_pretrained().model.id == "emi-prior"


def test_talking_clip_has_all_channels(analyse):
    result = analyse("grid_s1_bbaf2n_talk_neutral_m.mp4")
    for channel in (result.visual, result.audio, result.fused):
        assert _in_unit_interval(channel)
    assert result.quality.face_ratio > 0.9
    assert result.quality.speech_ratio > 0.3
    assert len(result.visual_timeline.times) == 30
    assert result.visual_timeline.values.shape == (30, 6)
    assert result.audio_timeline.values.shape[1] == 6
    assert len(result.fused_timeline.times) == 30
    assert result.action_units.values.shape[0] == 30
    assert result.transcript is not None and "now" in result.transcript.text.lower()
    assert result.text is not None and result.text_timeline.values.shape[1] == 6
    np.testing.assert_allclose(  # fused = the average of the channels with input
        [result.fused[e] for e in EMOTIONS],
        [(result.visual[e] + result.audio[e] + result.text[e]) / 3 for e in EMOTIONS],
        atol=2e-4,
    )


@pytest.mark.parametrize(
    ("happy", "sad"),
    [
        ("pexels_wolfganglanger_happy_laughing_silent.mp4", "pexels_wolfganglanger_sad_crying_silent.mp4"),
        ("mead_m030_happy_silent.mp4", "mead_m030_sad_silent.mp4"),
    ],
)
def test_happy_versus_sad_faces(analyse, happy, sad):
    happy_result, sad_result = analyse(happy), analyse(sad)
    assert happy_result.visual["Joy"] > sad_result.visual["Joy"] + 0.1
    assert sad_result.visual["Empathic Pain"] > happy_result.visual["Empathic Pain"]


def test_same_speaker_expressions_rank_as_acted(analyse):
    """CREMA-D actor 1001 saying one sentence three ways (shipped clips): the face channel ranks them."""
    happy, neutral, angry = (analyse(f"cremad_1001_talk_{e}_m.mp4").visual for e in ("happy", "neutral", "angry"))
    assert happy["Joy"] > neutral["Joy"] + 0.3 and happy["Joy"] > angry["Joy"] + 0.3
    assert happy["Amusement"] > neutral["Amusement"] + 0.3
    assert angry["Determination"] > neutral["Determination"] and angry["Determination"] > happy["Determination"]


def test_values_move_with_the_evidence(analyse):
    """Not saturated, not constant: intensities differ between clips and emotions."""
    names = [
        "pexels_wolfganglanger_happy_laughing_silent.mp4",
        "mead_m030_sad_silent.mp4",
        "grid_s1_bbaf2n_talk_neutral_m.mp4",
    ]
    table = np.array([[analyse(n).visual[e] for e in EMOTIONS] for n in names])
    assert table.max() < 0.98 and table.min() > 0.0
    assert table.std(axis=0).min() > 0.005  # every emotion varies across clips
    assert table[:2].std(axis=1).min() > 0.1  # expressive faces: some emotions stand out
    assert table[2].max() < 0.25  # a neutral talking face stays low on all six


@pytest.mark.parametrize("name", ["cremad_1001_talk_happy_no_audio.mp4", "mead_m030_happy_silent.mp4"])
def test_silent_clip_is_visual_only(analyse, name):
    result = analyse(name)
    assert result.audio is None and result.audio_timeline is None
    assert _in_unit_interval(result.visual)
    assert result.fused == result.visual
    assert any("no audio track" in w for w in result.warnings)


@pytest.mark.parametrize("name", ["grid_s1_bbaf2n_silent_track.mp4", "pexels_wolfganglanger_sad_crying_silent.mp4"])
def test_digitally_silent_track_is_skipped(analyse, name):
    result = analyse(name)
    assert result.audio is None
    assert result.quality.has_audio is True
    assert any("silent" in w for w in result.warnings)


def test_no_face_clip_is_audio_only_with_a_warning(analyse):
    result = analyse("synthetic_noface.mp4")
    assert result.visual is None and result.visual_timeline is None
    assert _in_unit_interval(result.audio)
    assert result.fused == result.audio
    assert result.quality.face_ratio == 0.0
    assert any("no face" in w for w in result.warnings)
    assert any("no speech" in w for w in result.warnings)


def test_wav_is_audio_only(analyse):
    result = analyse("cremad_1002_happy_f.wav")
    assert result.visual is None and result.action_units is None
    assert _in_unit_interval(result.audio)
    assert result.quality.has_video is False


def test_two_faces_warns(analyse):
    result = analyse("grid_two_faces_lbax4n_lbbc2a.mp4")
    assert result.quality.max_faces == 2
    assert any("2 faces" in w for w in result.warnings)


def test_json_schema(analyse):
    data = json.loads(analyse("grid_s1_bbaf2n_talk_neutral_m.mp4").to_json())
    assert set(data) == {
        "source",
        "model",
        "visual",
        "audio",
        "text",
        "fused",
        "quality",
        "warnings",
        "timeline",
        "transcript",
        "action_units",
        "explanation",
    }
    assert data["explanation"]["kind"] == "additive"
    assert data["model"]["name"] == PRIOR_NAME and data["model"]["kind"] == "heuristic"
    assert set(data["quality"]) >= {"face_ratio", "max_faces", "audio_duration_s", "speech_ratio", "duration_s"}
    assert set(data["timeline"]) == {"visual", "audio", "text", "fused"}
    for curve in data["timeline"].values():
        assert set(curve) == {"time_s", *EMOTIONS}
        assert all(len(curve[e]) == len(curve["time_s"]) for e in EMOTIONS)
    units = data["action_units"]
    assert {"AU01", "AU06", "AU12", "AU25", "AU43"} <= set(units["names"])
    assert len(units["values"]) == len(units["time_s"])
    for value in data["fused"].values():
        assert isinstance(value, float) and math.isfinite(value)


@pytest.mark.parametrize(
    ("source", "seconds"), [("cremad_1001_talk_happy_m.mp4", "0.15"), ("cremad_1002_sad_f.wav", "0.1")]
)
def test_very_short_clips_still_give_results(pipeline, media, tmp_path, source, seconds):
    """Shorter than the smoothing and audio windows: no crash, values in [0, 1]."""
    short = convert(media(source), tmp_path / f"short{Path(source).suffix}", "-t", seconds)
    result = pipeline(short)
    assert _in_unit_interval(result.fused)
    json.loads(result.to_json())


def test_bad_file_raises_media_error(pipeline, tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video at all" * 100)
    with pytest.raises(MediaError, match="broken.mp4: corrupt"):
        pipeline(bad)


def test_progress_reports_real_stages(pipeline, media):
    stages = []
    pipeline(media("cremad_1001_talk_happy_m.mp4"), progress=lambda fraction, stage: stages.append((fraction, stage)))
    names = [s for _, s in stages]
    assert names[0] == "decode" and names[-1] == "done"
    assert {"features", "models"} <= set(names)
    fractions = [f for f, _ in stages]
    assert fractions == sorted(fractions)
