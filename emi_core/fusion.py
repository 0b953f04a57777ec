"""Late fusion of any subset of channels: the paper's average, per-emotion weights, or a learned map.

One representation, :class:`FusionWeights`, serves every model (the EMI prior, trained checkpoints)
and is serialised once (:meth:`FusionWeights.to_dict` / :meth:`FusionWeights.from_dict`, the
``"fusion"`` entry of a checkpoint's ``config.json``). The **missing-channel rule** lives here and
nowhere else: a channel without input (``None``, or a NaN row for one video) is left out and the
fusion uses the channels that remain; with none left the fused value is ``None`` / NaN.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emi_core.channels import CHANNELS, ordered
from emi_core.emotions import EMOTIONS
from emi_core.result import Curve

FUSION_METHODS: tuple[str, ...] = ("mean", "weighted", "learned")
"""``mean``: the paper's plain average of the channels with input; ``weighted``: per-channel,
per-emotion weights renormalised over the channels with input; ``learned``: a linear map from the
concatenated channel intensities to the six intensities (clipped to [0, 1])."""


@dataclass(frozen=True)
class FusionWeights:
    """How channel intensities are combined into the fused estimate.

    ``weights`` (``weighted``): ``{channel: (6,) weights}``, non-negative; a channel absent from it
    weighs 0, and an emotion whose present channels all weigh 0 takes their plain mean.
    ``channels``, ``coef`` ``(6, 6·len(channels))`` and ``bias`` ``(6,)`` (``learned``): the fused
    value is ``clip(coef · [x_c for c in channels] + bias, 0, 1)``, where a channel without input is
    stood in for by the mean of the channels that have it.
    """

    method: str = "mean"
    weights: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    channels: tuple[str, ...] = ()
    coef: tuple[tuple[float, ...], ...] = ()
    bias: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.method not in FUSION_METHODS:
            raise ValueError(f"fusion method must be one of {FUSION_METHODS}, got {self.method!r}")
        if self.method == "weighted":
            arrays = {c: self.weight(c) for c in self.weights}
            ordered(arrays)  # known channels, at least one
            if any((w < 0).any() or not np.isfinite(w).all() for w in arrays.values()):
                raise ValueError("fusion weights must be finite and non-negative")
            if (sum(arrays.values()) <= 0).any():
                raise ValueError("fusion weights must have a positive sum per emotion")
        if self.method == "learned":
            if ordered(self.channels) != tuple(self.channels):
                raise ValueError(f"learned fusion channels must be in the order {CHANNELS}")
            coef, bias = np.asarray(self.coef, dtype=np.float64), np.asarray(self.bias, dtype=np.float64)
            n = len(EMOTIONS)
            if coef.shape != (n, n * len(self.channels)) or bias.shape != (n,):
                raise ValueError(f"learned fusion needs coef ({n}, {n * len(self.channels)}) and bias ({n},)")
            if not (np.isfinite(coef).all() and np.isfinite(bias).all()):
                raise ValueError("learned fusion coefficients must be finite")

    def weight(self, channel: str) -> np.ndarray:
        """The ``(6,)`` weight of ``channel`` (``weighted``; 1 for every channel with ``mean``)."""
        if self.method == "mean":
            return np.ones(len(EMOTIONS))
        given = self.weights.get(channel, 0.0)
        return np.broadcast_to(np.asarray(given, dtype=np.float64), (len(EMOTIONS),)).copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``{"method": "mean"}``, ``{"method": "weighted", "<channel>": [6 weights], …}``
        or ``{"method": "learned", "channels": [...], "coef": [[...]], "bias": [...]}``."""
        if self.method == "weighted":
            return {"method": "weighted", **{c: self.weight(c).tolist() for c in ordered(self.weights)}}
        if self.method == "learned":
            return {
                "method": "learned",
                "channels": list(self.channels),
                "coef": np.asarray(self.coef, dtype=np.float64).tolist(),
                "bias": np.asarray(self.bias, dtype=np.float64).tolist(),
            }
        return {"method": "mean"}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> FusionWeights:
        """The inverse of :meth:`to_dict` (``None`` or ``{}`` is the paper's mean); :class:`ValueError` if invalid."""
        data = dict(data or {"method": "mean"})
        method = data.get("method")
        if method == "weighted":
            return cls("weighted", weights={c: tuple(map(float, data[c])) for c in CHANNELS if c in data})
        if method == "learned":
            return cls(
                "learned",
                channels=tuple(data["channels"]),
                coef=tuple(tuple(map(float, row)) for row in data["coef"]),
                bias=tuple(map(float, data["bias"])),
            )
        return cls(method)

    def describe(self) -> str:
        """One sentence for model cards and logs."""
        if self.method == "weighted":
            parts = "; ".join(
                f"{c}: " + ", ".join(f"{e} {w:.2f}" for e, w in zip(EMOTIONS, self.weight(c), strict=True))
                for c in ordered(self.weights)
            )
            return f"per-emotion weighted average of the channels with input (weights {parts})"
        if self.method == "learned":
            return (
                f"learned linear map from the concatenated intensities of {', '.join(self.channels)} "
                "(a channel without input is stood in for by the mean of the others), clipped to [0, 1]"
            )
        return "average of the channels that have input (the paper)"


def fuse(outputs: Mapping[str, np.ndarray | None], weights: FusionWeights = FusionWeights()) -> np.ndarray | None:
    """Fuse ``{channel: (..., 6) intensities}``; ``None`` channels and NaN rows are left out.

    Returns ``(..., 6)`` float64 (NaN where no channel has input), or ``None`` when every channel is ``None``.
    """
    given = {c: np.asarray(outputs[c], dtype=np.float64) for c in CHANNELS if outputs.get(c) is not None}
    if not given:
        return None
    present = {c: np.isfinite(x).all(axis=-1, keepdims=True) for c, x in given.items()}
    values = {c: np.where(present[c], x, 0.0) for c, x in given.items()}
    count = sum(p.astype(np.float64) for p in present.values())
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sum(values.values()) / count
        if weights.method == "learned":
            inputs = learned_inputs(given, weights.channels)
            fused = np.clip(inputs @ np.asarray(weights.coef).T + weights.bias, 0.0, 1.0)
        else:
            total = sum(values[c] * weights.weight(c) for c in given)
            weight_sum = sum(present[c] * weights.weight(c) for c in given)
            fused = np.where(weight_sum > 0, total / np.where(weight_sum > 0, weight_sum, 1.0), mean)
    return np.where(count > 0, fused, np.nan)


def learned_inputs(outputs: Mapping[str, np.ndarray | None], channels: tuple[str, ...]) -> np.ndarray:
    """The input of ``learned`` fusion: ``(..., 6·len(channels))``, the intensities of ``channels``
    concatenated, each missing one (``None`` or NaN row) stood in for by the mean of the channels of
    ``outputs`` that have input (NaN where none has)."""
    given = {c: np.asarray(x, dtype=np.float64) for c, x in outputs.items() if x is not None}
    present = {c: np.isfinite(x).all(axis=-1, keepdims=True) for c, x in given.items()}
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sum(np.where(present[c], x, 0.0) for c, x in given.items()) / sum(
            p.astype(np.float64) for p in present.values()
        )
    return np.concatenate([np.where(present[c], given[c], mean) if c in given else mean for c in channels], axis=-1)


def fuse_curves(curves: Mapping[str, Curve | None], weights: FusionWeights = FusionWeights()) -> Curve | None:
    """Fuse timelines on the times of the first channel (in :data:`CHANNELS` order) that has one.

    The other channels are linearly interpolated onto that grid (held constant beyond their ends).
    """
    present = [c for c in CHANNELS if curves.get(c) is not None]
    if not present:
        return None
    grid = curves[present[0]].times
    return Curve(grid, fuse({c: _on_grid(curves[c], grid) for c in present}, weights))


def _on_grid(curve: Curve, grid: np.ndarray) -> np.ndarray | None:
    return curve.at(grid) if len(curve.times) else None
