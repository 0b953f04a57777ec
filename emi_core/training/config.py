"""Settings of a training run (torch-free, so the CLI can build its parser without importing torch)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from emi_core.channels import PAPER_CHANNELS, ordered
from emi_core.fusion import FUSION_METHODS

LOSSES: tuple[str, ...] = ("mse", "pcc", "mse+pcc")
"""Training losses (see :mod:`emi_core.training.losses`)."""

FUSIONS: tuple[str, ...] = FUSION_METHODS
"""Late fusion written by ``emi train``: the paper's mean, per-emotion weights or a learned linear map,
the last two fitted on validation (see :mod:`emi_core.training.fusion`)."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (a resumed run must use the same).

    ``model`` holds :class:`~emi_core.models.temporal_config.TemporalConfig` settings other than
    ``input_dim`` (e.g. ``{"d_model": 64, "max_len": 128}``); the rest take their defaults.
    """

    channels: tuple[str, ...] = PAPER_CHANNELS
    loss: str = "mse+pcc"
    epochs: int = 30
    seed: int = 0
    batch_size: int = 32
    lr: float = 3e-4
    weight_decay: float = 0.01
    patience: int = 5
    fusion: str = "mean"
    dataset: str = "Hume-Vidmimic2"
    model: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", ordered(self.channels))
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; expected one of {LOSSES}")
        if self.fusion not in FUSIONS:
            raise ValueError(f"unknown fusion {self.fusion!r}; expected one of {FUSIONS}")
        if min(self.epochs, self.batch_size, self.patience) < 1 or self.lr <= 0:
            raise ValueError("epochs, batch size and patience must be at least 1 and lr positive")
        if "input_dim" in self.model:
            raise ValueError("input_dim follows from the features; do not set it")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (stored in ``last.pt`` to recognise the same run)."""
        data = asdict(self)
        data["channels"] = list(self.channels)
        return data
