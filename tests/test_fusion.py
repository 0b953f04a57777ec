"""Late fusion over any subset of channels: one representation, one missing-channel rule, fitting."""

import numpy as np
import pytest

from emi_core.channels import CHANNELS, FUSED, ROWS, combination_name, combinations_of, ordered
from emi_core.emotions import EMOTIONS
from emi_core.fusion import FUSION_METHODS, FusionWeights, fuse, fuse_curves
from emi_core.result import Curve
from emi_core.training.evaluate import with_combinations
from emi_core.training.fusion import fit_fusion, fit_learned, fit_weighted

N = len(EMOTIONS)


def test_one_list_of_channels():
    assert ROWS == (*CHANNELS, FUSED) and FUSED not in CHANNELS
    assert ordered(reversed(CHANNELS)) == CHANNELS
    with pytest.raises(ValueError, match="channels must be some of"):
        ordered(["visual", "smell"])
    with pytest.raises(ValueError, match="got none"):
        ordered([])
    assert combinations_of(CHANNELS)[-1] == CHANNELS
    assert combination_name(["audio", "visual"]) == "visual+audio"


def test_mean_is_the_plain_average_of_the_channels_with_input():
    rng = np.random.default_rng(0)
    visual, audio = rng.random((5, N)), rng.random((5, N))
    np.testing.assert_allclose(fuse({"visual": visual, "audio": audio}), (visual + audio) / 2)
    np.testing.assert_array_equal(fuse({"visual": visual}), visual)
    np.testing.assert_array_equal(fuse({"visual": None, "audio": audio}), audio)
    assert fuse({}) is None and fuse({"visual": None}) is None
    visual[1], audio[2] = np.nan, np.nan  # one video without a face, another without audio
    visual[3], audio[3] = np.nan, np.nan  # one with neither
    fused = fuse({"visual": visual, "audio": audio})
    np.testing.assert_array_equal(fused[1], audio[1])
    np.testing.assert_array_equal(fused[2], visual[2])
    assert np.isnan(fused[3]).all() and np.isfinite(fused[[0, 4]]).all()
    np.testing.assert_allclose(fuse({"visual": visual[0], "audio": audio[0]}), (visual[0] + audio[0]) / 2)


def test_weighted_renormalises_over_the_channels_present():
    w = (1.0, 0.0, 0.5, 0.25, 0.75, 0.6)
    weights = FusionWeights("weighted", {"visual": w, "audio": tuple(1 - x for x in w)})
    v, a = np.full((2, N), 0.2), np.full((2, N), 0.8)
    a[1] = np.nan
    fused = fuse({"visual": v, "audio": a}, weights)
    np.testing.assert_allclose(fused[0], np.array(w) * 0.2 + (1 - np.array(w)) * 0.8)
    np.testing.assert_allclose(fused[1], 0.2)  # audio missing: visual alone, even where it weighed 0
    # a channel without a weight weighs 0 (the mean of the others is used only if every weight is 0)
    zero = FusionWeights("weighted", {"visual": 1.0})
    np.testing.assert_allclose(fuse({"visual": v[:1], "audio": a[:1]}, zero), v[:1])
    np.testing.assert_allclose(fuse({"audio": a[:1]}, zero), a[:1])


@pytest.mark.parametrize(
    "bad, match",
    [
        ({"method": "max"}, "fusion method"),
        ({"method": "weighted", "visual": [-1.0] * N, "audio": [1.0] * N}, "non-negative"),
        ({"method": "weighted", "visual": [0.0] * N, "audio": [0.0] * N}, "positive sum"),
        ({"method": "learned", "channels": ["visual"], "coef": [[1.0]], "bias": [0.0] * N}, "coef"),
        ({"method": "learned", "channels": ["audio", "visual"], "coef": [[0.0] * 12] * N, "bias": [0.0] * N}, "order"),
    ],
)
def test_invalid_fusion_is_rejected(bad, match):
    with pytest.raises(ValueError, match=match):
        FusionWeights.from_dict(bad)


def test_serialised_once_round_trip():
    rng = np.random.default_rng(1)
    fitted = [
        FusionWeights(),
        FusionWeights("weighted", {"visual": tuple(rng.random(N)), "audio": tuple(rng.random(N) + 0.1)}),
        FusionWeights("learned", channels=CHANNELS, coef=tuple(map(tuple, rng.random((N, N * len(CHANNELS))))),
                      bias=tuple(rng.random(N))),  # fmt: skip
    ]
    assert [f.method for f in fitted] == list(FUSION_METHODS)
    for weights in fitted:
        assert FusionWeights.from_dict(weights.to_dict()) == weights
        assert weights.describe()
    assert FusionWeights.from_dict(None) == FusionWeights() == FusionWeights.from_dict({"method": "mean"})


def test_learned_fusion_fits_a_linear_map_and_stands_in_for_a_missing_channel():
    rng = np.random.default_rng(2)
    labels = rng.random((200, N))
    visual = np.clip(labels + rng.normal(scale=0.02, size=labels.shape), 0, 1)
    audio = rng.random((200, N))
    weights = fit_learned({"visual": visual, "audio": audio}, labels)
    assert weights.method == "learned" and weights.channels == ("visual", "audio")
    fused = fuse({"visual": visual, "audio": audio}, weights)
    assert np.corrcoef(fused[:, 0], labels[:, 0])[0, 1] > 0.95
    coef = np.asarray(weights.coef)
    assert np.abs(coef[:, :N]).sum() > 5 * np.abs(coef[:, N:]).sum()  # it learned to trust the visual channel
    missing_audio = fuse({"visual": visual[:3], "audio": np.full((3, N), np.nan)}, weights)
    np.testing.assert_allclose(missing_audio, fuse({"visual": visual[:3], "audio": visual[:3]}, weights))
    assert np.isnan(fuse({"visual": np.full((1, N), np.nan)}, weights)).all()
    with pytest.raises(ValueError, match="at least 3"):
        fit_learned({"visual": visual[:2], "audio": audio[:2]}, labels[:2])


def test_fit_fusion_dispatches_and_weighted_prefers_the_informative_channel():
    rng = np.random.default_rng(3)
    labels = rng.random((80, N))
    preds = {"visual": labels + rng.normal(scale=0.05, size=labels.shape), "audio": rng.random((80, N))}
    assert fit_fusion("mean", preds, labels) == FusionWeights()
    weighted = fit_fusion("weighted", preds, labels)
    visual_weight = weighted.weight("visual")
    assert (visual_weight >= 0.9).all() and np.allclose(visual_weight + weighted.weight("audio"), 1)
    assert fit_fusion("learned", preds, labels).method == "learned"
    assert fit_weighted(preds, labels) == weighted


def test_fuse_curves_on_the_first_channel_grid():
    visual = Curve(np.array([0.0, 1.0, 2.0]), np.tile([[0.0], [0.5], [1.0]], (1, N)))
    audio = Curve(np.array([0.0, 2.0]), np.full((2, N), 1.0))
    fused = fuse_curves({"visual": visual, "audio": audio})
    np.testing.assert_array_equal(fused.times, visual.times)
    np.testing.assert_allclose(fused.values[:, 0], [0.5, 0.75, 1.0])
    only_audio = fuse_curves({"visual": None, "audio": audio})
    np.testing.assert_array_equal(only_audio.times, audio.times)
    assert fuse_curves({}) is None


def test_combination_rows():
    preds = {c: np.full((3, N), 0.1 * (i + 1)) for i, c in enumerate(CHANNELS)}
    rows = with_combinations(preds, fuse)
    expected = [*CHANNELS, *(combination_name(c) for c in combinations_of(CHANNELS)[:-1]), FUSED]
    assert list(rows) == expected
    np.testing.assert_allclose(rows[FUSED], fuse(preds))
    assert list(with_combinations({"visual": preds["visual"]}, fuse)) == ["visual", FUSED]
