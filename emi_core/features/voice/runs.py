"""Small vectorised helpers on frame sequences: runs of a boolean mask, moving sums, masked medians."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start indices and exclusive end indices of the runs of True in a 1-D boolean mask."""
    edges = np.diff(np.concatenate([[False], np.asarray(mask, bool), [False]]).astype(np.int8))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def close_gaps(mask: np.ndarray, max_gap: int) -> np.ndarray:
    """Set to True the False gaps of at most ``max_gap`` frames lying between two runs of True."""
    starts, ends = runs(mask)
    gap_starts, gap_ends = ends[:-1], starts[1:]
    short = gap_ends - gap_starts <= max_gap
    return np.asarray(mask, bool) | paint(len(mask), gap_starts[short], gap_ends[short])


def drop_short_runs(mask: np.ndarray, min_length: int) -> np.ndarray:
    """Set to False the runs of True shorter than ``min_length`` frames."""
    starts, ends = runs(mask)
    long = ends - starts >= min_length
    return paint(len(mask), starts[long], ends[long])


def paint(length: int, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Boolean mask of ``length`` that is True on the disjoint spans ``[starts[k], ends[k])``."""
    steps = np.zeros(length + 1, np.int64)
    np.add.at(steps, starts, 1)
    np.add.at(steps, ends, -1)
    return np.cumsum(steps[:-1]) > 0


def moving_sum(values: np.ndarray, half_width: int) -> np.ndarray:
    """Sum of ``values`` over the centred window ``[i - half_width, i + half_width]`` (clipped at the ends)."""
    cumulative = np.concatenate([[0.0], np.cumsum(values, dtype=np.float64)])
    index = np.arange(len(values))
    upper = np.minimum(index + half_width + 1, len(values))
    lower = np.maximum(index - half_width, 0)
    return cumulative[upper] - cumulative[lower]


def masked_median_filter(values: np.ndarray, mask: np.ndarray, half_width: int) -> np.ndarray:
    """Median of the masked-in values over a centred window, at masked-in positions (NaN elsewhere)."""
    data = np.where(mask, values, np.nan)
    if len(data) == 0:
        return data
    padded = np.pad(data, half_width, constant_values=np.nan)
    window = np.sort(sliding_window_view(padded, 2 * half_width + 1), axis=1)  # NaNs sort last
    count = np.sum(~np.isnan(window), axis=1)
    low = np.take_along_axis(window, np.maximum((count - 1) // 2, 0)[:, None], axis=1)[:, 0]
    high = np.take_along_axis(window, np.maximum(count // 2, 0)[:, None], axis=1)[:, 0]
    return np.where(mask, 0.5 * (low + high), np.nan)
