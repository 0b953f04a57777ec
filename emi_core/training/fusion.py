"""Fitting late fusion on validation predictions (``emi train --fusion weighted|learned``).

Both work for any subset of channels and return a :class:`~emi_core.fusion.FusionWeights`:

* ``weighted``: per emotion, the channel weights on a simplex grid (steps of 0.05) that maximise
  Pearson's r of the weighted average, fitted on the videos that have every channel;
* ``learned``: ridge regression (``alpha`` :data:`RIDGE_ALPHA`, intercept) from the concatenated
  channel intensities (``6 × channels`` inputs) to the six labels, on every video with some input, a
  missing channel stood in for by the mean of the others exactly as :func:`emi_core.fusion.fuse` does.

Both are fitted and reported on the same validation split, so the fused validation score is optimistic.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import product

import numpy as np

from emi_core.channels import ordered
from emi_core.fusion import FusionWeights, learned_inputs
from emi_core.scoring import pearson_columns

STEPS = 20
"""Grid resolution of ``weighted``: weights are multiples of 1/20."""

RIDGE_ALPHA = 1.0
"""L2 penalty of ``learned`` fusion (on intensities in [0, 1])."""


def fit_fusion(method: str, predictions: Mapping[str, np.ndarray], labels: np.ndarray) -> FusionWeights:
    """The fusion ``method`` (``mean``, ``weighted``, ``learned``) for ``{channel: (N, 6)}`` validation predictions."""
    if method == "weighted":
        return fit_weighted(predictions, labels)
    if method == "learned":
        return fit_learned(predictions, labels)
    return FusionWeights(method)


def fit_weighted(predictions: Mapping[str, np.ndarray], labels: np.ndarray) -> FusionWeights:
    """Per emotion, the grid weights maximising Pearson's r of the weighted average.

    Fitted on the videos that have every channel (NaN rows are skipped); ties and undefined r keep the
    weights closest to the plain mean; with fewer than 3 such videos the weights are uniform.
    """
    channels = ordered(predictions)
    n_channels = len(channels)
    uniform = np.full(n_channels, 1.0 / n_channels)
    stacked = np.stack([np.asarray(predictions[c], dtype=np.float64) for c in channels])  # (C, N, 6)
    complete = np.isfinite(stacked).all(axis=(0, 2))
    best = np.tile(uniform, (labels.shape[1], 1))  # (6, C)
    if complete.sum() >= 3:
        grid = np.array([w for w in product(range(STEPS + 1), repeat=n_channels) if sum(w) == STEPS]) / STEPS
        x, y = stacked[:, complete], labels[complete]
        scores = np.stack([pearson_columns(np.tensordot(w, x, axes=1), y) for w in grid])  # (grid, 6)
        scores = np.nan_to_num(scores, nan=-np.inf)
        order = np.argsort(np.linalg.norm(grid - uniform, axis=1), kind="stable")  # near the mean first
        best = grid[order[np.argmax(scores[order], axis=0)]]
    return FusionWeights("weighted", weights={c: tuple(best[:, i]) for i, c in enumerate(channels)})


def fit_learned(
    predictions: Mapping[str, np.ndarray], labels: np.ndarray, alpha: float = RIDGE_ALPHA
) -> FusionWeights:
    """Ridge regression from the concatenated channel intensities to the labels (see the module docstring)."""
    channels = ordered(predictions)
    x = learned_inputs(predictions, channels)
    rows = np.isfinite(x).all(axis=1)
    if rows.sum() < 3:
        raise ValueError(f"learned fusion needs at least 3 validation videos with input, got {int(rows.sum())}")
    x, y = x[rows], labels[rows]
    x_mean, y_mean = x.mean(axis=0), y.mean(axis=0)
    xc, yc = x - x_mean, y - y_mean
    coef = np.linalg.solve(xc.T @ xc + alpha * np.eye(x.shape[1]), xc.T @ yc).T  # (6, 6C)
    bias = y_mean - coef @ x_mean
    return FusionWeights("learned", channels=channels, coef=tuple(map(tuple, coef.tolist())), bias=tuple(bias.tolist()))

