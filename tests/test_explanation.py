"""Why this number: exact cue contributions of the EMI prior, channel shares, salient moments."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emi_core.emotions import EMOTIONS
from emi_core.explanation import ADDITIVE, CHANNEL_SHARES, explain, salient_moments
from emi_core.fusion import FusionWeights, fuse
from emi_core.models.prior.mapping import AUDIO_TABLE, VISUAL_TABLE, Cues, contributions
from emi_core.models.prior.model import aggregation_weights
from emi_core.pipeline import EMIPipeline
from emi_core.result import Curve

RNG = np.random.default_rng(7)


def _random_cues(table, length, missing=0.0):
    cues = Cues()
    names = {cue for emotion in EMOTIONS for cue, _ in table[emotion]}
    values = {}
    for name in sorted(names):
        column = RNG.uniform(0, 1, length)
        column[RNG.uniform(0, 1, length) < missing] = np.nan
        values[name] = column
    cues.add("test", values)
    return cues


def _weighted_mean(table, cues, length):
    """The table's weighted mean written out directly (NaN cues left out, weights renormalised)."""
    out = np.zeros((length, len(EMOTIONS)))
    for e, emotion in enumerate(EMOTIONS):
        for t in range(length):
            pairs = [(cues[c][t], w) for c, w in table[emotion] if np.isfinite(cues[c][t])]
            total = sum(w for _, w in pairs)
            out[t, e] = sum(v * w for v, w in pairs) / total if total else 0.0
    return out


@pytest.mark.parametrize("table", [VISUAL_TABLE, AUDIO_TABLE])
@pytest.mark.parametrize("missing", [0.0, 0.4])
def test_contributions_sum_to_the_weighted_mean(table, missing):
    cues = _random_cues(table, 25, missing)
    parts = contributions(table, cues, 25)
    np.testing.assert_allclose(parts.timeline(), _weighted_mean(table, cues, 25), atol=1e-12)
    assert parts.frames.shape == (25, len(EMOTIONS), len(parts.cues))
    assert (parts.frames >= 0).all() and parts.groups == ("test",) * len(parts.cues)
    # a cue feeds only the emotions whose row of the table names it
    for e, emotion in enumerate(EMOTIONS):
        named = {cue for cue, _ in table[emotion]}
        for k, cue in enumerate(parts.cues):
            assert (parts.weights[e, k] > 0) == (cue in named)
            if cue not in named:
                assert not parts.frames[:, e, k].any()


@pytest.mark.parametrize("length", [1, 2, 3, 10, 57])
def test_aggregation_weights_are_the_mean_plus_percentile(length):
    values = RNG.uniform(0, 1, (length, len(EMOTIONS)))
    weights = aggregation_weights(values)
    expected = 0.5 * values.mean(axis=0) + 0.5 * np.percentile(values, 90, axis=0)
    np.testing.assert_allclose((weights * values).sum(axis=0), expected, atol=1e-12)
    np.testing.assert_allclose(weights.sum(axis=0), 1.0)
    rows = RNG.uniform(0, 1, length) < 0.5
    rows[0] = True
    masked = aggregation_weights(values, rows)
    expected = 0.5 * values[rows].mean(axis=0) + 0.5 * np.percentile(values[rows], 90, axis=0)
    np.testing.assert_allclose((masked * values).sum(axis=0), expected, atol=1e-12)
    assert not masked[~rows].any()
    assert not aggregation_weights(values, np.zeros(length, bool)).any()


def _channel(length, seed, additive=True):
    rng = np.random.default_rng(seed)
    cues = Cues()
    table = VISUAL_TABLE if seed % 2 else AUDIO_TABLE
    cues.add("group", {c: rng.uniform(0, 1, length) for e in EMOTIONS for c, _ in table[e]})
    parts = contributions(table, cues, length)
    parts = parts.aggregated(aggregation_weights(parts.timeline()))
    curve = Curve(np.arange(length) / 10.0, parts.timeline())
    return parts.intensities(), curve, parts if additive else None


@pytest.mark.parametrize(
    "weights", [FusionWeights(), FusionWeights("weighted", {"visual": (0.9, 0.1, 0.5, 0.3, 0.7, 0.2), "audio": 0.4})]
)
def test_explanation_adds_up_to_the_fused_value(weights):
    visual, audio = _channel(40, 1), _channel(12, 2)
    explanation = explain({"visual": visual, "audio": audio}, weights)
    assert explanation.kind == ADDITIVE
    np.testing.assert_allclose(explanation.fused(), fuse({"visual": visual[0], "audio": audio[0]}, weights), atol=1e-12)
    for channel, given in (("visual", visual), ("audio", audio)):
        np.testing.assert_allclose(explanation.contributions[channel].intensities(), given[0], atol=1e-12)
    data = explanation.to_dict()
    for e, emotion in enumerate(EMOTIONS):
        entry = data["fused"][emotion]
        total = fuse({"visual": visual[0], "audio": audio[0]}, weights)[e]
        assert entry["value"] == pytest.approx(total, abs=1e-6)
        assert sum(entry["channels"].values()) == pytest.approx(total, abs=2e-6)
        assert sum(c["contribution"] for c in entry["cues"]) == pytest.approx(total, abs=1e-6 * len(entry["cues"]))
        contributions_listed = [c["contribution"] for c in entry["cues"]]
        assert contributions_listed == sorted(contributions_listed, reverse=True)
    json.dumps(data, allow_nan=False)


def test_one_channel_is_its_own_share():
    visual = _channel(20, 3)
    explanation = explain({"visual": visual, "audio": None}, FusionWeights())
    assert set(explanation.shares) == {"visual"}
    np.testing.assert_allclose(explanation.shares["visual"], visual[0])
    assert explain({"visual": None, "audio": None}, FusionWeights()) is None


def test_a_trained_model_gets_channel_shares_and_moments_only():
    visual, audio = _channel(30, 5, additive=False), _channel(8, 6, additive=False)
    explanation = explain({"visual": visual, "audio": audio}, FusionWeights())
    assert explanation.kind == CHANNEL_SHARES
    data = explanation.to_dict()
    assert "channels" not in data and all("cues" not in entry for entry in data["fused"].values())
    assert "not a causal attribution" in data["description"]
    np.testing.assert_allclose(explanation.fused(), (visual[0] + audio[0]) / 2)
    assert set(data["moments"]) == {"visual", "audio"}
    # mixing an additive and a non-additive channel cannot be called additive
    assert explain({"visual": _channel(30, 5), "audio": audio}, FusionWeights()).kind == CHANNEL_SHARES


def test_moments_find_the_peak_and_its_cues():
    times = np.arange(50) / 10.0
    values = np.full((50, len(EMOTIONS)), 0.2)
    values[20:26, EMOTIONS.index("Joy")] = 0.9
    values[40:45, EMOTIONS.index("Joy")] = 0.5
    moments = salient_moments(Curve(times, values))
    joy = moments["Joy"]
    assert joy[0].start_s <= 2.0 and joy[0].end_s >= 2.5 and joy[0].above_mean > 0.2
    assert joy[1].start_s >= 3.5
    spans = [(m.start_s, m.end_s) for m in joy]
    assert all(a_end < b_start or b_end < a_start for i, (a_start, a_end) in enumerate(spans)
               for b_start, b_end in spans[i + 1:])  # fmt: skip
    assert moments["Admiration"] == []  # a flat curve has no moment
    assert salient_moments(Curve(np.zeros(0), np.zeros((0, 6))))["Joy"] == []


def test_moment_cue_rises_add_up_to_the_excess():
    intensities, curve, parts = _channel(60, 9)
    for e, emotion in enumerate(EMOTIONS):
        for moment in salient_moments(curve, parts)[emotion]:
            window = (curve.times >= moment.start_s) & (curve.times <= moment.end_s)
            rise = parts.frames[window, e].mean(axis=0) - parts.frames[:, e].mean(axis=0)
            assert rise.sum() == pytest.approx(moment.above_mean, abs=1e-9)
            assert moment.cues and moment.cues[0][0] == parts.cues[int(np.argmax(rise))]


@pytest.fixture(scope="module")
def talking(media):
    return EMIPipeline.from_pretrained("default")(media("cremad_1001_talk_happy_m.mp4"))


def test_prior_result_explains_its_reported_numbers(talking):
    """Reported (rounded) values = the sums of their contributions, for each channel and fused."""
    data = json.loads(talking.to_json())
    explanation = data["explanation"]
    assert explanation["kind"] == ADDITIVE and "heuristic" in explanation["description"]
    for emotion in EMOTIONS:
        fused = explanation["fused"][emotion]
        assert sum(c["contribution"] for c in fused["cues"]) == pytest.approx(data["fused"][emotion], abs=1e-4)
        assert sum(fused["channels"].values()) == pytest.approx(data["fused"][emotion], abs=1e-4)
        for channel in ("visual", "audio", "text"):
            entry = explanation["channels"][channel][emotion]
            assert sum(c["contribution"] for c in entry["cues"]) == pytest.approx(data[channel][emotion], abs=1e-4)
    groups = {c["group"] for c in explanation["fused"]["Joy"]["cues"]}
    assert groups == {"expression", "action units", "voice", "what is said", "valence"}
    assert {c["cue"] for c in explanation["channels"]["visual"]["Joy"]["cues"]} == {"AU06", "AU12", "happy"}
    # exact, not approximately: the clip values are computed from the contributions
    for channel, intensities in (("visual", talking.visual), ("audio", talking.audio), ("text", talking.text)):
        parts = talking.explanation.contributions[channel]
        reported = [intensities[e] for e in EMOTIONS]
        np.testing.assert_array_equal(np.round(np.clip(parts.intensities(), 0, 1), 4), reported)
    assert any(explanation["moments"]["visual"].values()) and any(explanation["moments"]["audio"].values())


def test_learned_fusion_parts_add_up_before_the_clip():
    from emi_core.fusion import learned_inputs

    rng = np.random.default_rng(3)
    weights = FusionWeights(
        "learned", channels=("visual", "audio"),
        coef=tuple(map(tuple, rng.normal(0, 0.3, (6, 12)))), bias=tuple(rng.normal(0, 0.1, 6)),
    )  # fmt: skip
    visual, audio = _channel(20, 1, additive=False), _channel(8, 2, additive=False)
    for given in ({"visual": visual, "audio": audio}, {"visual": visual, "audio": None}):
        explanation = explain(given, weights)
        assert explanation.kind == "learned fusion" and set(explanation.shares) == {"visual", "audio", "bias"}
        clips = {c: v[0] for c, v in given.items() if v is not None}
        before_clip = learned_inputs(clips, weights.channels) @ np.asarray(weights.coef).T + weights.bias
        np.testing.assert_allclose(explanation.fused(), before_clip, atol=1e-12)
        np.testing.assert_allclose(np.clip(explanation.fused(), 0, 1), fuse(clips, weights), atol=1e-12)
        assert "clipped" in explanation.to_dict()["description"]
