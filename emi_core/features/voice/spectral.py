"""Per-frame spectral descriptors from one Hann-windowed FFT of all frames.

- centroid (Hz): magnitude-weighted mean frequency, the usual "brightness" measure;
- tilt (dB): the eGeMAPS *alpha ratio*, energy in 1–5 kHz over energy in 50 Hz–1 kHz; higher (less
  negative) means a flatter, tenser, brighter voice (shouting, anger), lower a steeper, softer one
  (sad, breathy, low effort);
- flux (0–1): cosine distance between consecutive magnitude spectra, level independent; ~0 for a steady
  sound, larger at phone transitions and onsets;
- tonality (0–1): share of the frame's power within ±2 bins of its strongest bin; ~1 for a pure tone,
  well under 0.5 for a voice (several harmonics shaped by formants).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft

LOW_BAND_HZ = (50.0, 1000.0)
HIGH_BAND_HZ = (1000.0, 5000.0)
PEAK_HALF_WIDTH_BINS = 2


@dataclass(frozen=True)
class SpectralFeatures:
    """Per-frame descriptors; ``centroid_hz`` and ``tilt_db`` are NaN where the frame has no energy."""

    centroid_hz: np.ndarray
    tilt_db: np.ndarray
    flux: np.ndarray
    tonality: np.ndarray


def spectral_features(frames: np.ndarray, sample_rate: int) -> SpectralFeatures:
    """Compute :class:`SpectralFeatures` for ``frames`` of shape (F, W) (Hann window, W-point FFT)."""
    window = np.hanning(frames.shape[1] + 2)[1:-1].astype(frames.dtype)
    magnitude = np.abs(fft.rfft(frames * window, axis=1))
    power = magnitude**2
    freqs = np.fft.rfftfreq(frames.shape[1], 1.0 / sample_rate)
    total = magnitude.sum(axis=1)
    silent = total <= 1e-9
    with np.errstate(invalid="ignore", divide="ignore"):
        centroid = np.where(silent, np.nan, magnitude @ freqs / np.where(silent, 1.0, total))
        low = power[:, _band(freqs, LOW_BAND_HZ)].sum(axis=1)
        high = power[:, _band(freqs, HIGH_BAND_HZ)].sum(axis=1)
        tilt = np.where(silent, np.nan, 10.0 * np.log10((high + 1e-12) / (low + 1e-12)))
    return SpectralFeatures(centroid, tilt, _flux(magnitude), _tonality(power))


def _band(freqs: np.ndarray, band: tuple[float, float]) -> np.ndarray:
    return (freqs >= band[0]) & (freqs < band[1])


def _flux(magnitude: np.ndarray) -> np.ndarray:
    """1 - cosine similarity with the previous frame (0 for the first frame and around silence)."""
    flux = np.zeros(len(magnitude))
    if len(magnitude) < 2:
        return flux
    norms = np.linalg.norm(magnitude, axis=1)
    dots = np.einsum("ij,ij->i", magnitude[1:], magnitude[:-1])
    both = norms[1:] * norms[:-1]
    similarity = np.ones_like(dots)
    np.divide(dots, both, out=similarity, where=both > 1e-12)
    flux[1:] = np.clip(1.0 - similarity, 0.0, 1.0)
    return flux


def _tonality(power: np.ndarray) -> np.ndarray:
    """Share of power within ±2 bins of the strongest bin (0 for silent frames)."""
    offsets = np.arange(-PEAK_HALF_WIDTH_BINS, PEAK_HALF_WIDTH_BINS + 1)
    around = power.argmax(axis=1)[:, None] + offsets
    inside = (around >= 0) & (around < power.shape[1])
    near = np.sum(np.take_along_axis(power, np.clip(around, 0, power.shape[1] - 1), axis=1) * inside, axis=1)
    total = power.sum(axis=1)
    tonality = np.zeros(len(power))
    np.divide(near, total, out=tonality, where=total > 1e-18)
    return np.clip(tonality, 0.0, 1.0)
