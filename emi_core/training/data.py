"""Training data: a labelled split CSV joined with one feature store, cropped batches with masks.

* Splits are challenge CSVs (``Filename`` + the six emotions) read by
  :func:`emi_core.scoring.load_ground_truth`: ids stay text (``00042``), every value is checked.
* A video whose features are not in the store, or are stored with no frames (e.g. no face anywhere),
  is left out of that channel; :class:`ChannelData` counts both.
* Training batches hold a **random contiguous crop** of at most ``max_len`` frames per video (a new
  crop every epoch); evaluation uses whole sequences, cut into windows of at most ``max_len`` frames
  by :meth:`~emi_core.models.temporal.TemporalRegressor.predict_frames`, so both see the same context.
* The order of videos and the crops of epoch ``e`` depend only on ``(seed, epoch, channel)``, never
  on what ran before, which is what makes an interrupted run resume exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from emi_core.errors import DatasetError
from emi_core.features.cache import FeatureStore
from emi_core.models.temporal import pad_sequences
from emi_core.scoring import GroundTruth, GroundTruthError, load_ground_truth


@dataclass(frozen=True)
class Split:
    """A labelled split: ``ids[i]`` has the six intensities ``labels[i]``."""

    path: Path
    ids: tuple[str, ...]
    labels: np.ndarray
    sha256: str

    def describe(self) -> dict:
        """``{"file", "videos", "sha256"}`` for model cards and checkpoints."""
        return {"file": self.path.name, "videos": len(self.ids), "sha256": self.sha256}


def read_split(path: str | Path) -> Split:
    """Read a labelled challenge CSV; :class:`~emi_core.errors.DatasetError` naming the file if it is unusable."""
    path = Path(path)
    try:
        truth: GroundTruth = load_ground_truth(path)
    except GroundTruthError as err:
        raise DatasetError(f"split {path} is not a usable labelled challenge CSV: {err}") from None
    return Split(path, truth.ids, np.asarray(truth.values, dtype=np.float32), truth.sha256)


@dataclass(frozen=True)
class ChannelData:
    """The videos of a split that have features in ``store``, with their labels."""

    store: FeatureStore
    ids: tuple[str, ...]
    labels: np.ndarray
    missing: int
    empty: int

    @property
    def channel(self) -> str:
        """``"visual"`` or ``"audio"``."""
        return self.store.channel

    def summary(self, split_name: str) -> str:
        """One line such as ``visual: 78 of 80 train videos (2 not in the cache, 0 without frames)``."""
        total = len(self.ids) + self.missing + self.empty
        return (
            f"{self.channel}: {len(self.ids)} of {total} {split_name} videos "
            f"({self.missing} not in the cache, {self.empty} without frames)"
        )


def join(split: Split, store: FeatureStore) -> ChannelData:
    """The videos of ``split`` usable from ``store`` (present, with at least one frame)."""
    keep, missing, empty = [], 0, 0
    for row, video_id in enumerate(split.ids):
        if not store.has(video_id):
            missing += 1
        elif store.length(video_id) == 0:
            empty += 1
        else:
            keep.append(row)
    return ChannelData(store, tuple(split.ids[r] for r in keep), split.labels[keep], missing, empty)


class CropDataset(Dataset):
    """Items are ``(index, u)`` pairs: video ``index`` cropped to ``max_len`` frames at offset fraction ``u``."""

    def __init__(self, data: ChannelData, max_len: int):
        self.data = data
        self.max_len = max_len

    def __len__(self) -> int:
        return len(self.data.ids)

    def __getitem__(self, item: tuple[int, float]) -> tuple[np.ndarray, np.ndarray]:
        index, u = item
        features, _ = self.data.store.read(self.data.ids[index])
        extra = len(features) - self.max_len
        if extra > 0:
            start = min(int(u * (extra + 1)), extra)
            features = features[start : start + self.max_len]
        return features, self.data.labels[index]


def epoch_batches(n: int, batch_size: int, seed: int, epoch: int, stream: int) -> list[list[tuple[int, float]]]:
    """Shuffled batches of ``(index, crop fraction)`` for one epoch, a function of its arguments only."""
    rng = np.random.default_rng([seed, epoch, stream])
    order = rng.permutation(n)
    fractions = rng.random(n)
    items = [(int(i), float(fractions[i])) for i in order]
    return [items[first : first + batch_size] for first in range(0, n, batch_size)]


def collate(items: list[tuple[np.ndarray, np.ndarray]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pad a list of ``(features (T_i, D), labels (6,))`` into ``x (B, T, D)``, ``mask (B, T)``, ``y (B, 6)``."""
    x, mask = pad_sequences([features for features, _ in items])
    y = torch.from_numpy(np.stack([labels for _, labels in items]).astype(np.float32))
    return x, mask, y
