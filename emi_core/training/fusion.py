"""Fitting the optional per-emotion late-fusion weights (``emi train --fusion weighted``)."""

from __future__ import annotations

import numpy as np

from emi_core.scoring import pearson_columns

GRID = np.linspace(0.0, 1.0, 21)
"""Candidate visual weights (the audio weight is one minus it), in steps of 0.05."""


def fit_fusion_weights(visual: np.ndarray, audio: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per emotion, the visual weight ``w`` in :data:`GRID` maximising Pearson's r of ``w·v + (1−w)·a``.

    Fitted on the videos that have both channels (NaN rows are skipped); ties and undefined r keep
    the weight closest to the paper's 0.5. Returns a ``(6,)`` array.
    """
    both = np.isfinite(visual).all(axis=1) & np.isfinite(audio).all(axis=1)
    if both.sum() < 3:
        return np.full(labels.shape[1], 0.5)
    v, a, y = visual[both], audio[both], labels[both]
    scores = np.stack([pearson_columns(w * v + (1.0 - w) * a, y) for w in GRID])  # (grid, 6)
    scores = np.nan_to_num(scores, nan=-np.inf)
    order = np.argsort(np.abs(GRID - 0.5), kind="stable")  # prefer weights near 0.5 on ties
    best = order[np.argmax(scores[order], axis=0)]
    return GRID[best]
