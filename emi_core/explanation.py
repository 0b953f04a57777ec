"""Why a number is what it is: cue contributions, channel shares and the moments that drove a clip.

Two kinds of explanation, named in every result:

- ``"additive"`` — the model is a weighted table of cues (the EMI prior), so each intensity is
  *exactly* the sum of its cues' contributions (:class:`CueContributions`); the fused value is the
  sum over channels of their fusion-weighted contributions.
- ``"channel shares"`` — a trained network: only the late fusion is additive, so the explanation
  gives each channel's exact share of the fused value, plus the moments where each channel's
  timeline stood highest above its mean (descriptive, not a causal attribution).
- ``"learned fusion"`` — a checkpoint whose fusion is a learned linear map: each channel's part of
  the map (and its bias), exact before the map's clip to [0, 1], and the moments as above.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from emi_core.emotions import EMOTIONS
from emi_core.fusion import FusionWeights, fuse, learned_inputs
from emi_core.result import Curve

ADDITIVE = "additive"
CHANNEL_SHARES = "channel shares"
LEARNED = "learned fusion"

DESCRIPTIONS: dict[str, str] = {
    ADDITIVE: (
        "Exact additive contributions: this model is a weighted table of cues, so every intensity is the sum "
        "of its cues' contributions (fused = the fusion-weighted sum over channels). It explains the heuristic "
        "model, not the person: the table is a prior, not fitted to mimicry labels."
    ),
    CHANNEL_SHARES: (
        "Channel shares: each channel's exact share of the fused value (late fusion is a weighted average). "
        "Inside a channel the network is not additive; the moments listed are where its timeline stood "
        "highest above its own mean (descriptive, not a causal attribution)."
    ),
    LEARNED: (
        "Learned fusion: the fused value is a learned linear map of the channels' intensities, clipped to "
        "[0, 1]; the parts listed (one per channel of the map, plus its bias) add up to it before the clip "
        "and may be negative. The moments are where each channel's timeline stood highest above its mean "
        "(descriptive, not a causal attribution)."
    ),
}

MOMENT_WINDOW_S = 1.0
"""Length of the time windows ranked as moments."""

TOP_MOMENTS = 3
"""Moments kept per channel and emotion."""


@dataclass(frozen=True)
class CueContributions:
    """A channel's intensities split over its cues.

    ``clip`` is ``(6, K)``: the contribution of cue ``k`` to each emotion's clip value, which is their
    sum over ``k``; ``frames`` is ``(T, 6, K)``, the same for each point of the channel's timeline.
    ``weights`` ``(6, K)`` holds the table weight of each cue (0 where a cue does not feed an emotion)
    and ``groups`` the kind of each cue (``"expression"``, ``"action units"``, ``"voice"``...).
    """

    cues: tuple[str, ...]
    groups: tuple[str, ...]
    weights: np.ndarray
    frames: np.ndarray
    clip: np.ndarray

    def intensities(self) -> np.ndarray:
        """The ``(6,)`` clip intensities: the sum of the contributions."""
        return self.clip.sum(axis=-1)

    def timeline(self) -> np.ndarray:
        """The ``(T, 6)`` timeline: the sum of the per-frame contributions."""
        return self.frames.sum(axis=-1)

    def scaled(self, factor: np.ndarray) -> CueContributions:
        """Every frame's contributions times ``factor`` ``(T,)`` (e.g. a window's speech presence)."""
        frames = self.frames * np.asarray(factor, dtype=np.float64)[:, None, None]
        return replace(self, frames=frames, clip=frames.mean(axis=0))

    def aggregated(self, frame_weights: np.ndarray) -> CueContributions:
        """The clip contributions of a linear aggregation of the timeline with ``frame_weights`` ``(T, 6)``:
        ``clip[e, k] = Σ_t frame_weights[t, e] · frames[t, e, k]``."""
        return replace(self, clip=np.einsum("te,tek->ek", frame_weights, self.frames))


@dataclass(frozen=True)
class Moment:
    """A time window where one channel's intensity of one emotion stood above its clip mean."""

    start_s: float
    end_s: float
    value: float
    above_mean: float
    cues: tuple[tuple[str, float], ...] = ()
    """For an additive model: the cues whose contributions rose most in the window, with their rise."""

    def to_dict(self) -> dict:
        out = {
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "value": round(self.value, 4),
            "above_mean": round(self.above_mean, 4),
        }
        if self.cues:
            out["cues"] = [{"cue": cue, "rise": round(rise, 4)} for cue, rise in self.cues]
        return out


@dataclass(frozen=True)
class Explanation:
    """Why each fused value is what it is (see the module docstring for the two kinds).

    ``shares[channel]`` is that channel's ``(6,)`` share of the fused value (the shares sum to it);
    ``contributions[channel]`` its cue breakdown (additive models only), whose ``clip`` sums to the
    channel's value; ``fusion[channel]`` the factor ``(6,)`` that channel's values carry in the fused one.
    """

    kind: str
    shares: dict[str, np.ndarray]
    fusion: dict[str, np.ndarray]
    contributions: dict[str, CueContributions]
    moments: dict[str, dict[str, list[Moment]]]

    def fused(self) -> np.ndarray:
        """The ``(6,)`` fused intensities: the sum of the channel shares."""
        return np.sum(list(self.shares.values()), axis=0)

    def to_dict(self) -> dict:
        """JSON form: per emotion, the fused value, its channel shares and (additive) its cues, largest first."""
        fused = {}
        for e, emotion in enumerate(EMOTIONS):
            entry = {
                "value": _r(sum(share[e] for share in self.shares.values())),
                "channels": {channel: _r(share[e]) for channel, share in self.shares.items()},
            }
            if self.contributions:
                entry["cues"] = self._fused_cues(e)
            fused[emotion] = entry
        out = {"kind": self.kind, "description": DESCRIPTIONS[self.kind], "fused": fused}
        if self.contributions:
            out["channels"] = {
                channel: {emotion: _channel_cues(parts, e) for e, emotion in enumerate(EMOTIONS)}
                for channel, parts in self.contributions.items()
            }
        out["moments"] = {
            channel: {emotion: [m.to_dict() for m in moments] for emotion, moments in per_emotion.items()}
            for channel, per_emotion in self.moments.items()
        }
        return out

    def _fused_cues(self, e: int) -> list[dict]:
        rows = [
            {"channel": channel, "group": group, "cue": cue, "contribution": _r(self.fusion[channel][e] * value)}
            for channel, parts in self.contributions.items()
            for cue, group, weight, value in zip(parts.cues, parts.groups, parts.weights[e], parts.clip[e], strict=True)
            if weight > 0
        ]
        return sorted(rows, key=lambda row: -row["contribution"])


def explain(
    outputs: Mapping[str, tuple[np.ndarray, Curve, CueContributions | None] | None], weights: FusionWeights
) -> Explanation | None:
    """The explanation of a fused result from each channel's ``(clip, timeline, contributions)``.

    Channels that are ``None`` had no input. ``None`` when no channel has; ``"additive"`` when every
    channel with input came with its contributions, else ``"channel shares"``.
    """
    present = {channel: given for channel, given in outputs.items() if given is not None}
    if not present:
        return None
    if weights.method == "learned":
        shares = _learned_shares({channel: clip for channel, (clip, _, _) in present.items()}, weights)
        moments = {channel: salient_moments(curve) for channel, (_, curve, _) in present.items()}
        return Explanation(LEARNED, shares, {}, {}, moments)
    fusion = _fusion_factors(list(present), weights)
    shares = {channel: fusion[channel] * clip for channel, (clip, _, _) in present.items()}
    contributions = {channel: parts for channel, (_, _, parts) in present.items() if parts is not None}
    kind = ADDITIVE if len(contributions) == len(present) else CHANNEL_SHARES
    moments = {
        channel: salient_moments(curve, parts if kind == ADDITIVE else None)
        for channel, (_, curve, parts) in present.items()
    }
    return Explanation(kind, shares, fusion, contributions if kind == ADDITIVE else {}, moments)


def _fusion_factors(channels: list[str], weights: FusionWeights) -> dict[str, np.ndarray]:
    """The ``(6,)`` factor of each present channel in :func:`~emi_core.fusion.fuse` (linear: one-hot inputs give it)."""
    factors = {}
    for channel in channels:
        unit = {other: np.zeros(len(EMOTIONS)) for other in channels}
        unit[channel] = np.ones(len(EMOTIONS))
        factors[channel] = fuse(unit, weights)
    return factors


def _learned_shares(clips: Mapping[str, np.ndarray], weights: FusionWeights) -> dict[str, np.ndarray]:
    """Learned fusion before its clip to [0, 1]: ``coef_c · x_c`` per channel of the map, plus ``"bias"``
    (a missing channel's part is that of the stand-in the fusion uses for it)."""
    inputs = learned_inputs(clips, weights.channels)
    coef = np.asarray(weights.coef, dtype=np.float64)
    n = len(EMOTIONS)
    shares = {c: coef[:, i * n : (i + 1) * n] @ inputs[i * n : (i + 1) * n] for i, c in enumerate(weights.channels)}
    return {**shares, "bias": np.asarray(weights.bias, dtype=np.float64)}


def salient_moments(
    curve: Curve, parts: CueContributions | None = None, window_s: float = MOMENT_WINDOW_S, top: int = TOP_MOMENTS
) -> dict[str, list[Moment]]:
    """Per emotion, up to ``top`` non-overlapping windows where the curve's window mean most exceeds its mean.

    With ``parts`` (the per-frame cue contributions on the curve's times), each moment names the two
    cues whose contributions rose most there: the rises of all cues add up to ``above_mean`` exactly.
    """
    times = np.asarray(curve.times, dtype=np.float64)
    values = np.asarray(curve.values, dtype=np.float64)
    out: dict[str, list[Moment]] = {emotion: [] for emotion in EMOTIONS}
    if len(times) == 0:
        return out
    half = window_s / 2
    starts = np.searchsorted(times, times - half, side="left")
    ends = np.searchsorted(times, times + half, side="right")
    for e, emotion in enumerate(EMOTIONS):
        column = values[:, e]
        mean = float(np.mean(column))
        window_means = np.array([column[a:b].mean() for a, b in zip(starts, ends, strict=True)])
        taken: list[tuple[float, float]] = []
        for i in np.argsort(-window_means, kind="stable"):
            excess = float(window_means[i] - mean)
            if excess <= 1e-9 or len(out[emotion]) == top:
                break
            start, end = float(times[starts[i]]), float(times[ends[i] - 1])
            if any(start <= b and a <= end for a, b in taken):
                continue
            taken.append((start, end))
            out[emotion].append(
                Moment(start, end, float(window_means[i]), excess, _rising_cues(parts, e, starts[i], ends[i]))
            )
    return out


def _rising_cues(parts: CueContributions | None, e: int, start: int, end: int) -> tuple[tuple[str, float], ...]:
    if parts is None:
        return ()
    rise = parts.frames[start:end, e].mean(axis=0) - parts.frames[:, e].mean(axis=0)
    order = np.argsort(-rise, kind="stable")[:2]
    return tuple((parts.cues[k], float(rise[k])) for k in order if rise[k] > 0)


def _channel_cues(parts: CueContributions, e: int) -> dict:
    rows = [
        {"group": group, "cue": cue, "weight": _r(weight), "contribution": _r(value)}
        for cue, group, weight, value in zip(parts.cues, parts.groups, parts.weights[e], parts.clip[e], strict=True)
        if weight > 0
    ]
    return {"value": _r(parts.clip[e].sum()), "cues": sorted(rows, key=lambda row: -row["contribution"])}


def _r(value: float) -> float:
    return round(float(value), 6)
