"""Pearson's r per emotion for every channel, every combination of channels and the fused estimate
of a split (the paper's table, e.g. visual, audio, text, visual+audio, …, fused = all channels).

Each row is scored on the videos that row has a prediction for: the visual row on videos with a face
in the cache, the audio row on videos with audio, a combination or the fused row on videos with any
of its channels (the channels present stand in for a missing one, as at inference). Scores come from
:func:`emi_core.scoring.score_arrays`, the challenge scorer: a constant prediction column scores 0.0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from emi_core.channels import CHANNELS, FUSED, combination_name, combinations_of
from emi_core.emotions import EMOTIONS
from emi_core.features.cache import FeatureCache
from emi_core.models.paper import EMIModel
from emi_core.scoring import GroundTruthError, score_arrays
from emi_core.training.data import Split


@dataclass(frozen=True)
class Evaluation:
    """``pearson[row]`` maps the six emotions and ``"mean"`` to Pearson's r; ``videos[row]`` counts the videos."""

    pearson: dict[str, dict[str, float]]
    videos: dict[str, int]
    warnings: tuple[str, ...] = field(default=())

    def mean(self, row: str) -> float:
        """Mean r of ``row`` (NaN if the row could not be scored)."""
        return self.pearson[row]["mean"] if row in self.pearson else math.nan

    def to_dict(self) -> dict:
        """JSON-ready ``{"pearson", "videos", "warnings"}``."""
        return {"pearson": self.pearson, "videos": self.videos, "warnings": list(self.warnings)}

    def table(self) -> str:
        """Plain-text table: one row per channel, combination and the fused estimate; columns the six
        emotions, Mean and N."""
        widths = [max(len(e), 7) for e in (*EMOTIONS, "Mean")]
        first = max([10, *(len(row) + 2 for row in self.pearson)])
        header = (
            f"{'Pearson r':<{first}}"
            + "".join(f"  {e:>{w}}" for e, w in zip((*EMOTIONS, "Mean"), widths, strict=True))
            + "      N"
        )
        lines = [header]
        for row, scores in self.pearson.items():
            values = [scores[e] for e in (*EMOTIONS, "mean")]
            cells = "".join(f"  {v:>{w}.4f}" for v, w in zip(values, widths, strict=True))
            lines.append(f"{row.capitalize():<{first}}{cells}  {self.videos[row]:>5}")
        return "\n".join(lines + [f"warning: {w}" for w in self.warnings])


def with_combinations(
    predictions: Mapping[str, np.ndarray | None], fuse: Callable[[dict[str, np.ndarray]], np.ndarray | None]
) -> dict[str, np.ndarray]:
    """The table's rows from per-channel ``(N, 6)`` predictions: each channel, each combination of two or
    more channels short of all of them (``"visual+audio"`` …), then ``"fused"`` (all), fused by ``fuse``."""
    channels = {c: predictions[c] for c in CHANNELS if predictions.get(c) is not None}
    rows = dict(channels)
    for combo in combinations_of(channels)[:-1] if len(channels) > 1 else ():
        rows[combination_name(combo)] = fuse({c: channels[c] for c in combo})
    if channels:
        rows[FUSED] = fuse(channels)
    return rows


def evaluate_predictions(predictions: Mapping[str, np.ndarray | None], labels: np.ndarray) -> Evaluation:
    """Score ``{row: (N, 6)}`` predictions (NaN rows = no prediction) against labels, rows in the order given."""
    pearson: dict[str, dict[str, float]] = {}
    videos: dict[str, int] = {}
    warnings: list[str] = []
    for row, pred in predictions.items():
        if pred is None:
            continue
        have = np.isfinite(pred).all(axis=1)
        if have.sum() < 2:
            warnings.append(f"{row}: {int(have.sum())} video(s) with a prediction, too few for Pearson's r")
            continue
        try:
            report = score_arrays(pred[have], labels[have])
        except GroundTruthError:
            warnings.append(f"{row}: the labels of its {int(have.sum())} videos are constant in some emotion")
            continue
        pearson[row] = {**report.per_emotion, "mean": report.mean_pearson}
        videos[row] = int(have.sum())
        warnings.extend(f"{row}: {w}" for w in report.warnings)
    return Evaluation(pearson, videos, tuple(warnings))


def evaluate_model(model: EMIModel, cache: FeatureCache, split: Split, batch_size: int = 16) -> Evaluation:
    """Evaluate ``model`` on a labelled split whose features are in ``cache``."""
    predictions = model.predict_cached(cache, split.ids, batch_size)
    return evaluate_predictions(with_combinations(predictions, model.fuse), split.labels)
