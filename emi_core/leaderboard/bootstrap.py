"""Bootstrap statistics of the mean Pearson's r: resampling videos (rows) with a fixed seed.

Every submission to a split is resampled with the same row indices (same seed, same ground
truth), so the replicates of two submissions are paired and their difference can be tested.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from emi_core.scoring.pearson import constant_columns

BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 20240617
CONFIDENCE_LEVEL = 0.95
_CHUNK_CELLS = 2**21
"""Resamples are drawn in chunks of about this many row indices, to bound memory."""
_UNDEFINED_VARIANCE = 1e-10
"""A resampled column whose variance is below this fraction of the full column's is constant."""


def resample_indices(n: int, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED) -> Iterator[np.ndarray]:
    """Yield (chunk, n) arrays of row indices drawn with replacement; ``resamples`` rows in all."""
    rng = np.random.default_rng(seed)
    chunk = max(1, _CHUNK_CELLS // n)
    for start in range(0, resamples, chunk):
        yield rng.integers(0, n, size=(min(chunk, resamples - start), n))


def bootstrap_means(
    pred: np.ndarray, truth: np.ndarray, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED
) -> np.ndarray:
    """Mean Pearson's r over the emotion columns for each bootstrap resample of the rows."""
    return bootstrap_pearson(pred, truth, resamples, seed).mean(axis=1)


def bootstrap_pearson(
    pred: np.ndarray, truth: np.ndarray, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED
) -> np.ndarray:
    """Pearson's r of each emotion column for each bootstrap resample of the rows: (resamples, k).

    ``pred`` and ``truth`` are aligned (n, k) arrays. As in scoring, a column that is constant in
    a resample counts as r = 0. Uses weighted moments of centred data, which equals computing
    Pearson's r on each explicitly resampled array.
    """
    n = truth.shape[0]
    x = pred - pred.mean(axis=0)
    y = truth - truth.mean(axis=0)
    moments = np.concatenate([x, y, x * x, y * y, x * y], axis=1)
    floor_x = _UNDEFINED_VARIANCE * (x * x).mean(axis=0)
    floor_y = _UNDEFINED_VARIANCE * (y * y).mean(axis=0)
    varies = ~(constant_columns(pred) | constant_columns(truth))
    chunks = []
    for indices in resample_indices(n, resamples, seed):
        chunk = indices.shape[0]
        flat = (indices + n * np.arange(chunk)[:, None]).ravel()
        counts = np.bincount(flat, minlength=chunk * n).reshape(chunk, n).astype(np.float64)
        mx, my, mxx, myy, mxy = np.split(counts @ moments / n, 5, axis=1)
        var_x, var_y = mxx - mx * mx, myy - my * my
        defined = varies & (var_x > floor_x) & (var_y > floor_y)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(defined, (mxy - mx * my) / np.sqrt(var_x * var_y), 0.0)
        chunks.append(np.clip(r, -1.0, 1.0))
    return np.concatenate(chunks)


def confidence_interval(replicates: np.ndarray, level: float = CONFIDENCE_LEVEL) -> tuple[float, float]:
    """Percentile bootstrap interval of the given ``level`` (0.95: the 2.5th and 97.5th percentiles)."""
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(replicates, [tail, 100.0 - tail])
    return float(low), float(high)


def paired_p_value(leader: np.ndarray, other: np.ndarray) -> float:
    """One-sided paired bootstrap p-value that ``other`` is not really worse than ``leader``.

    The share of paired resamples in which ``other`` does at least as well as the leader, with the
    usual +1 correction (never exactly 0). Small values mean the leader's lead is real.
    """
    if leader.shape != other.shape:
        raise ValueError("paired replicates must come from the same resamples")
    return float((1 + np.count_nonzero(leader - other <= 0.0)) / (leader.size + 1))


def two_sided_p_value(first: np.ndarray, second: np.ndarray) -> float:
    """Two-sided paired bootstrap p-value that ``first`` and ``second`` do equally well (+1 corrected)."""
    if first.shape != second.shape:
        raise ValueError("paired replicates must come from the same resamples")
    gap = first - second
    tail = min(np.count_nonzero(gap <= 0.0), np.count_nonzero(gap >= 0.0))
    return float(min(1.0, 2.0 * (1 + tail) / (gap.size + 1)))
