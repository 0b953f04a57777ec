"""Pearson's correlation coefficient in float64, column by column."""

from __future__ import annotations

import numpy as np


def constant_columns(values: np.ndarray) -> np.ndarray:
    """Boolean mask of the columns of a 2-D array whose values are all equal."""
    return values.min(axis=0) == values.max(axis=0)


def pearson_columns(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Pearson's r between matching columns of two (n, k) arrays, in float64.

    Columns are centred, then r = <x, y> / sqrt(<x, x> <y, y>), clipped to [-1, 1] (agrees with
    ``scipy.stats.pearsonr`` to about 1e-15). A column that is constant in either array has no
    defined r: its entry is NaN and the caller decides what it means.
    """
    pred = np.asarray(pred, dtype=np.float64)
    truth = np.asarray(truth, dtype=np.float64)
    if pred.shape != truth.shape or pred.ndim != 2 or pred.shape[0] < 2:
        raise ValueError(f"need two (n, k) arrays of the same shape with n >= 2, got {pred.shape} and {truth.shape}")
    undefined = constant_columns(pred) | constant_columns(truth)
    x = pred - pred.mean(axis=0)
    y = truth - truth.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.einsum("ij,ij->j", x, y) / np.sqrt(np.einsum("ij,ij->j", x, x) * np.einsum("ij,ij->j", y, y))
    r = np.clip(r, -1.0, 1.0)
    r[undefined] = np.nan
    return r


def pearson(x, y) -> float:
    """Pearson's r of two 1-D sequences (NaN when either is constant)."""
    x = np.asarray(x, dtype=np.float64).reshape(-1, 1)
    y = np.asarray(y, dtype=np.float64).reshape(-1, 1)
    return float(pearson_columns(x, y)[0])
