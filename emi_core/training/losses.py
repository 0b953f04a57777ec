"""Training losses on ``(B, 6)`` predicted intensities (after the sigmoid) and labels in [0, 1].

* ``mse``: mean squared error over the batch and the six emotions.
* ``pcc``: ``1 − mean over emotions of Pearson's r over the batch`` (the challenge metric, made a loss).
  A column constant within the batch contributes r = 0 (the ``eps`` keeps the gradient finite).
* ``mse+pcc``: their unweighted sum (the default: MSE anchors the scale, PCC the ranking).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.nn import functional as F

from emi_core.training.config import LOSSES

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def pcc_loss(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """``1 − mean_j r_j`` where ``r_j`` is Pearson's r of column ``j`` over the batch."""
    x = pred - pred.mean(dim=0)
    y = target - target.mean(dim=0)
    r = (x * y).sum(dim=0) / torch.sqrt((x * x).sum(dim=0) * (y * y).sum(dim=0) + eps)
    return 1.0 - r.mean()


def mse_pcc_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``mse + pcc``."""
    return F.mse_loss(pred, target) + pcc_loss(pred, target)


def make_loss(name: str) -> Loss:
    """The loss called ``name`` (one of :data:`LOSSES`)."""
    losses: dict[str, Loss] = {"mse": F.mse_loss, "pcc": pcc_loss, "mse+pcc": mse_pcc_loss}
    if name not in losses:
        raise ValueError(f"unknown loss {name!r}; expected one of {LOSSES}")
    return losses[name]
