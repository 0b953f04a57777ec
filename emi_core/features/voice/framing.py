"""Slice audio into overlapping centred frames (a strided view of one padded copy) and measure their energy."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

FRAME_S = 0.040  # 40 ms: YIN needs more than two periods of the lowest pitch (60 Hz -> 16.7 ms)
HOP_S = 0.010
FLOOR_DB = -100.0  # energy of digital silence (and anything quieter), in dBFS


def frame_audio(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Return frames (F, W) centred at ``i * hop``, zero-padded at both ends; F = 0 for empty audio.

    F = 1 + len(audio) // hop, so any non-empty input has at least one frame.
    """
    width = int(round(FRAME_S * sample_rate))
    hop = int(round(HOP_S * sample_rate))
    samples = np.asarray(audio, dtype=np.float32).reshape(-1)
    if samples.size == 0:
        return np.zeros((0, width), np.float32)
    count = 1 + samples.size // hop
    padded = np.zeros((count - 1) * hop + width, np.float32)
    start = width // 2
    stop = min(samples.size, padded.size - start)
    padded[start : start + stop] = samples[:stop]
    return sliding_window_view(padded, width)[::hop]


def energy_db(frames: np.ndarray) -> np.ndarray:
    """RMS level of each frame in dBFS (re full scale 1.0), floored at :data:`FLOOR_DB`."""
    power = np.mean(frames**2, axis=1, dtype=np.float64) if frames.size else np.zeros(len(frames))
    return np.maximum(10.0 * np.log10(np.maximum(power, 1e-24)), FLOOR_DB)
