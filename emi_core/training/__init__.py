"""Training and evaluation of the paper's model on cached features (``emi train``, ``emi evaluate``).

>>> from emi_core.features.cache import FeatureCache
>>> from emi_core.training import TrainConfig, train
>>> result = train(TrainConfig(epochs=30), FeatureCache("cache"), "train.csv", "val.csv", "runs/paper")
>>> print(result.evaluation.table())

Modules: :mod:`~emi_core.training.config` (settings, torch-free), :mod:`~emi_core.training.data`
(splits, crops, batches), :mod:`~emi_core.training.losses`, :mod:`~emi_core.training.trainer` (the
loop), :mod:`~emi_core.training.evaluate` (the paper's table), :mod:`~emi_core.training.fusion`
(fitted fusion weights). The names below are imported on first use, so that importing
``emi_core.training.config`` (as the CLI does) does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "LOSSES": "config",
    "TrainConfig": "config",
    "Split": "data",
    "read_split": "data",
    "Evaluation": "evaluate",
    "evaluate_model": "evaluate",
    "evaluate_predictions": "evaluate",
    "make_loss": "losses",
    "pcc_loss": "losses",
    "EpochRecord": "trainer",
    "TrainResult": "trainer",
    "train": "trainer",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'emi_core.training' has no attribute {name!r}")
    return getattr(importlib.import_module(f"emi_core.training.{_EXPORTS[name]}"), name)
