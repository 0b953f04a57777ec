"""AU channel: geometric AUs from the face mesh on real clips, invariances, baselines."""

from __future__ import annotations

import time

import numpy as np
import pytest

from emi_core.faces import track_faces
from emi_core.features.au import (
    AU_NAMES,
    AU_SCALES,
    NEUTRAL_MEASURES,
    NEUTRAL_SPREAD,
    au_measures,
    baseline_percentiles,
    clip_baseline,
    estimate_aus,
    neutral_statistics,
)
from emi_core.media import iter_frames, open_media

HAPPY = ("pexels_wolfganglanger_happy_laughing_silent.mp4", "mead_m030_happy_silent.mp4")
SAD = ("mead_m030_sad_silent.mp4", "pexels_wolfganglanger_sad_crying_silent.mp4")
SURPRISED = "mead_m030_surprised_silent.mp4"
NEUTRAL_TALK = (
    "cremad_1001_talk_neutral_m.mp4",
    "grid_brbk7n_talk_neutral_f.mp4",
    "grid_s1_bbaf2n_talk_neutral_m.mp4",
    "obama_weekly_address_talk_neutral_12s.mp4",
)


@pytest.fixture(scope="module")
def landmarks(media):
    """``landmarks("clip.mp4")``: the clip's ``(T, 478, 3)`` mesh at 10 fps, computed once per module."""
    cache: dict[str, np.ndarray] = {}

    def _get(name: str) -> np.ndarray:
        if name not in cache:
            cache[name] = track_faces(iter_frames(open_media(media(name)), fps=10)).landmarks_array()
        return cache[name]

    return _get


def clip_mean(landmarks, name: str) -> dict[str, float]:
    return dict(zip(AU_NAMES, np.nanmean(estimate_aus(landmarks(name)), axis=0), strict=True))


def au_column(name: str) -> int:
    return AU_NAMES.index(name)


def rotated(points: np.ndarray, degrees: float, axis: str) -> np.ndarray:
    """Rotate every frame's 3-D points about their common centre (``"z"``: in-plane roll)."""
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    matrix = {
        "z": [[c, -s, 0], [s, c, 0], [0, 0, 1]],
        "y": [[c, 0, s], [0, 1, 0], [-s, 0, c]],
        "x": [[1, 0, 0], [0, c, -s], [0, s, c]],
    }[axis]
    centre = np.nanmean(points, axis=(0, 1))
    return ((points - centre) @ np.array(matrix).T + centre).astype(np.float32)


def test_au_names_cover_the_required_aus():
    required = "AU01 AU02 AU04 AU05 AU06 AU07 AU09 AU10 AU12 AU14 AU15 AU17 AU20 AU23 AU24 AU25 AU26 AU43".split()
    assert set(required) <= set(AU_NAMES)
    assert len(set(AU_NAMES)) == len(AU_NAMES)
    assert list(AU_SCALES) == list(AU_NAMES)


def test_smiles_read_as_au12_and_au6(landmarks):
    means = {name: clip_mean(landmarks, name) for name in HAPPY + SAD + NEUTRAL_TALK}
    happy_low = {au: min(means[name][au] for name in HAPPY) for au in ("AU12", "AU06")}
    for name in SAD + NEUTRAL_TALK:
        assert happy_low["AU12"] > means[name]["AU12"] + 0.15, (name, means[name]["AU12"], happy_low)
    # Crying (the Pexels sad clip) raises the cheeks too (AU6+AU7 squeeze): compare AU6 with the
    # acted sad clip and the neutral speakers only.
    for name in SAD[:1] + NEUTRAL_TALK:
        assert happy_low["AU06"] > means[name]["AU06"] + 0.2, (name, means[name]["AU06"], happy_low)


def test_same_speaker_smile_reads_as_au12_and_au6(landmarks):
    """Shipped clips: CREMA-D actor 1001's happy take against his neutral and angry takes of one sentence."""
    happy, neutral, angry = (clip_mean(landmarks, f"cremad_1001_talk_{e}_m.mp4") for e in ("happy", "neutral", "angry"))
    for other in (neutral, angry):
        assert happy["AU12"] > other["AU12"] + 0.25
        assert happy["AU06"] > other["AU06"] + 0.25


def test_surprise_reads_as_raised_brows_lids_and_jaw(landmarks):
    surprised = clip_mean(landmarks, SURPRISED)
    for name in NEUTRAL_TALK:
        neutral = clip_mean(landmarks, name)
        for au in ("AU01", "AU02", "AU05", "AU26"):
            assert surprised[au] > neutral[au] + 0.08, (name, au, surprised[au], neutral[au])


def test_sadness_reads_as_lowered_brows_and_corners(landmarks):
    sad = clip_mean(landmarks, SAD[0])
    for name in HAPPY + NEUTRAL_TALK:
        other = clip_mean(landmarks, name)
        for au in ("AU04", "AU15"):
            assert sad[au] > other[au] + 0.15, (name, au, sad[au], other[au])


def test_neutral_speakers_stay_low_except_the_mouth_opening(landmarks):
    speech = {"AU25", "AU26"}
    for name in NEUTRAL_TALK:
        means = clip_mean(landmarks, name)
        high = {au: round(v, 2) for au, v in means.items() if au not in speech and v >= 0.4}
        assert not high, (name, high)


def test_speech_moves_lips_and_jaw_over_time(landmarks):
    for name in NEUTRAL_TALK:
        aus = estimate_aus(landmarks(name))
        for au in ("AU25", "AU26"):
            values = aus[:, au_column(au)]
            assert np.ptp(values) > 0.4 and values.std() > 0.1, (name, au, np.ptp(values), values.std())


def test_values_in_unit_range_and_missing_faces_kept_as_nan(landmarks):
    points = landmarks(HAPPY[0]).copy()
    points[[3, 10, 11]] = np.nan
    aus = estimate_aus(points)
    assert aus.shape == (len(points), len(AU_NAMES)) and aus.dtype == np.float32
    missing = np.isnan(aus).all(axis=1)
    assert missing.tolist() == [i in (3, 10, 11) for i in range(len(points))]
    assert not np.isnan(aus[~missing]).any()
    assert aus[~missing].min() >= 0.0 and aus[~missing].max() <= 1.0

    no_face = landmarks("synthetic_noface.mp4")
    assert len(no_face) > 0
    assert np.isnan(estimate_aus(no_face)).all()


def test_invariant_to_scale_translation_and_head_rotation(landmarks):
    points = landmarks("obama_weekly_address_talk_neutral_12s.mp4")
    reference = estimate_aus(points)
    shifted = points * 2 + np.array([37.0, -12.0, 5.0], np.float32)
    np.testing.assert_allclose(estimate_aus(shifted), reference, atol=1e-4)
    # The face frame is built from the mesh itself, so roll (in-plane) and yaw/pitch as MediaPipe
    # reports them in 3-D change nothing beyond rounding.
    for axis, degrees in (("z", 15), ("y", 20), ("x", -15)):
        np.testing.assert_allclose(estimate_aus(rotated(points, degrees, axis)), reference, atol=1e-3)


def test_neutral_constants_reproduce_from_the_neutral_clips(landmarks):
    clips = NEUTRAL_TALK + ("grid_two_faces_lbax4n_lbbc2a.mp4",)
    neutral, spread = neutral_statistics([au_measures(landmarks(name)) for name in clips])
    np.testing.assert_allclose(neutral, NEUTRAL_MEASURES, atol=6e-4)
    np.testing.assert_allclose(spread, NEUTRAL_SPREAD, atol=6e-4)


def test_clip_baseline_is_the_clip_neutral_within_the_population_spread(landmarks):
    for name in HAPPY + (SURPRISED,) + NEUTRAL_TALK:
        baseline = clip_baseline(au_measures(landmarks(name)))
        assert np.all(np.abs(baseline - NEUTRAL_MEASURES) <= NEUTRAL_SPREAD + 1e-9), name


def test_supplied_and_short_clip_baselines(landmarks):
    points = landmarks(HAPPY[1])
    measures = au_measures(points)
    np.testing.assert_array_equal(estimate_aus(points, baseline=clip_baseline(measures)), estimate_aus(points))
    # One frame has no usable clip baseline: it is scored against the population neutral.
    one = points[5:6]
    np.testing.assert_array_equal(estimate_aus(one), estimate_aus(one, baseline=NEUTRAL_MEASURES))
    # A held expression is not cancelled by the clip's own baseline: absolute and clip-referenced
    # AU12 both read the whole MEAD smile as a smile.
    assert np.nanmean(estimate_aus(points, baseline=NEUTRAL_MEASURES)[:, au_column("AU12")]) > 0.5
    with pytest.raises(ValueError, match="baseline"):
        estimate_aus(points, baseline=np.zeros(3))


def test_personal_neutral_baseline(landmarks):
    # CREMA-D actor 1001's neutral recording as his baseline: his happy take reads as a smile.
    baseline = baseline_percentiles(au_measures(landmarks("cremad_1001_talk_neutral_m.mp4")))
    happy = np.nanmean(estimate_aus(landmarks("cremad_1001_talk_happy_m.mp4"), baseline=baseline), axis=0)
    neutral = np.nanmean(estimate_aus(landmarks("cremad_1001_talk_neutral_m.mp4"), baseline=baseline), axis=0)
    for au in ("AU12", "AU06"):
        assert happy[au_column(au)] > neutral[au_column(au)] + 0.3, (au, happy, neutral)


def test_rejects_wrong_landmark_shape():
    with pytest.raises(ValueError, match="478"):
        estimate_aus(np.zeros((4, 468, 3), np.float32))


def test_speed_well_under_a_millisecond_per_frame(landmarks):
    points = np.concatenate([landmarks("obama_weekly_address_talk_neutral_12s.mp4")] * 10)  # 1200 frames
    start = time.perf_counter()
    estimate_aus(points)
    per_frame = (time.perf_counter() - start) / len(points)
    assert per_frame < 2e-4, f"{per_frame * 1e6:.0f} us per frame"
