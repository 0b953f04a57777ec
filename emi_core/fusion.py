"""Late fusion: the paper's average of the available channels (weights configurable)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emi_core.emotions import EMOTIONS
from emi_core.result import Curve


@dataclass(frozen=True)
class FusionWeights:
    """Weight of the visual and the audio channel, per emotion (``(6,)`` arrays) or global (floats).

    The default is the paper's plain average. Weights are renormalised over the channels that have
    input, so a missing channel leaves the other one as it is.
    """

    visual: float | tuple[float, ...] = 0.5
    audio: float | tuple[float, ...] = 0.5

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Both weights broadcast to ``(6,)`` float64 arrays."""
        visual = np.broadcast_to(np.asarray(self.visual, dtype=np.float64), (len(EMOTIONS),))
        audio = np.broadcast_to(np.asarray(self.audio, dtype=np.float64), (len(EMOTIONS),))
        if (visual < 0).any() or (audio < 0).any() or ((visual + audio) <= 0).any():
            raise ValueError("fusion weights must be non-negative with a positive sum per emotion")
        return visual, audio


def fuse(
    visual: np.ndarray | None, audio: np.ndarray | None, weights: FusionWeights = FusionWeights()
) -> np.ndarray | None:
    """Fuse ``(..., 6)`` channel intensities; ``None`` channels are left out, ``None`` if both are."""
    if visual is None and audio is None:
        return None
    if visual is None:
        return np.asarray(audio, dtype=np.float64)
    if audio is None:
        return np.asarray(visual, dtype=np.float64)
    w_visual, w_audio = weights.arrays()
    return (w_visual * visual + w_audio * audio) / (w_visual + w_audio)


def fuse_curves(visual: Curve | None, audio: Curve | None, weights: FusionWeights = FusionWeights()) -> Curve | None:
    """Fuse two timelines on the visual frame times (or the audio window times when there is no face).

    The other channel is linearly interpolated onto that grid (held constant beyond its ends).
    """
    if visual is None and audio is None:
        return None
    grid = visual.times if visual is not None else audio.times
    return Curve(grid, fuse(_on_grid(visual, grid), _on_grid(audio, grid), weights))


def _on_grid(curve: Curve | None, grid: np.ndarray) -> np.ndarray | None:
    return curve.at(grid) if curve is not None and len(curve.times) else None
