"""Vectorised YIN pitch tracker: one FFT autocorrelation for all frames at once.

De Cheveigné & Kawahara (2002), "YIN, a fundamental frequency estimator for speech and music",
JASA 111(4). Steps 2–5 of the paper: difference function (from the autocorrelation and running
energies), cumulative-mean-normalised difference (CMND), absolute threshold with the first local
minimum, parabolic interpolation. The CMND value at the chosen lag is the *aperiodicity*
(0 = perfectly periodic, ~1 = noise); ``periodicity = 1 - aperiodicity``.
"""

from __future__ import annotations

import numpy as np
from scipy import fft

F0_MIN_HZ = 60.0
F0_MAX_HZ = 500.0
YIN_THRESHOLD = 0.15  # first local CMND minimum below this is taken as the period (paper: 0.1–0.15)


def yin(frames: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(f0_hz, periodicity)`` per frame for ``frames`` of shape (F, W).

    ``f0_hz`` is the best period candidate in [60, 500] Hz for every frame (the caller decides voicing
    from ``periodicity`` in [0, 1] and the frame energy). Frames must be longer than the longest lag
    (1/60 s); frames of digital silence give periodicity 0.
    """
    count, width = frames.shape
    lag_min = int(np.floor(sample_rate / F0_MAX_HZ))
    lag_max = int(np.ceil(sample_rate / F0_MIN_HZ))
    if count == 0:
        return np.zeros(0), np.zeros(0)
    spectrum_size = fft.next_fast_len(width + lag_max + 2, real=True)  # no circular wrap up to lag_max + 1
    spectrum = fft.rfft(frames, spectrum_size, axis=1)
    autocorr = fft.irfft(spectrum.real**2 + spectrum.imag**2, spectrum_size, axis=1)[:, : lag_max + 2]
    lags = np.arange(lag_max + 2)
    # d(tau) = sum_{j < W - tau} (x_j - x_{j+tau})^2 = E[0, W-tau) + E[tau, W) - 2 r(tau); with the total
    # energy T, E[tau, W) = T - (energy of the first tau samples), E[0, W-tau) = T - (of the last tau).
    head = _cumulative_energy(frames[:, : lag_max + 1])
    tail = _cumulative_energy(frames[:, : width - lag_max - 2 : -1])
    total = autocorr[:, :1]
    diff = np.maximum(2.0 * (total - autocorr) - head - tail, 0.0)
    running = np.cumsum(diff[:, 1:], axis=1)
    cmnd = np.ones_like(diff)
    np.divide(diff[:, 1:] * lags[1:], running, out=cmnd[:, 1:], where=running > 1e-12 * width)
    first = _first_dip(cmnd, lag_min, lag_max)
    rows = np.arange(count)
    before, at, after = cmnd[rows, first - 1], cmnd[rows, first], cmnd[rows, first + 1]
    curvature = before - 2.0 * at + after
    shift = np.zeros(count, cmnd.dtype)
    np.divide(0.5 * (before - after), curvature, out=shift, where=curvature > 1e-12)
    period = first + np.clip(shift, -0.5, 0.5)
    periodicity = np.clip(1.0 - at, 0.0, 1.0)
    periodicity[total[:, 0] <= 1e-12 * width] = 0.0
    return sample_rate / period, periodicity


def _cumulative_energy(samples: np.ndarray) -> np.ndarray:
    """Energy of the first k samples for k = 0 .. len: shape (F, len + 1)."""
    return np.concatenate([np.zeros((len(samples), 1), samples.dtype), np.cumsum(samples**2, axis=1)], axis=1)


def _first_dip(cmnd: np.ndarray, lag_min: int, lag_max: int) -> np.ndarray:
    """Lag of the first local CMND minimum below the threshold in [lag_min, lag_max], else the global minimum."""
    window = cmnd[:, lag_min - 1 : lag_max + 2]
    middle = window[:, 1:-1]
    dips = (middle <= window[:, :-2]) & (middle < window[:, 2:]) & (middle < YIN_THRESHOLD)
    first = np.where(dips.any(axis=1), dips.argmax(axis=1), middle.argmin(axis=1))
    return first + lag_min
