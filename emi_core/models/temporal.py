"""The paper's temporal regressor: per-frame features → TCN → Transformer encoder → pooled → 6 outputs.

Shapes: ``x`` is ``(B, T, D)`` float32, ``mask`` is ``(B, T)`` bool with **True on real frames** and
False on padding. Padding never changes the outputs on real frames:

* the TCN is non-causal (same padding) and every block zeroes padded positions after each layer,
  so a padded sequence sees exactly the zeros that an unpadded one sees at its end;
* the Transformer gets ``src_key_padding_mask = ~mask``;
* pooling is the mean over real frames only.

The head is linear after mean pooling, so the clip logits equal the mean of the per-frame logits
(:meth:`TemporalRegressor.frame_logits`): ``clip = sigmoid(mean_t frame_logit_t)``.
Sequences longer than ``max_len`` are handled in windows (see :meth:`TemporalRegressor.predict_frames`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from emi_core.emotions import EMOTIONS
from emi_core.models.temporal_config import TemporalConfig

__all__ = ["TemporalBlock", "TemporalConfig", "TemporalRegressor", "masked_mean", "pad_sequences", "sigmoid"]


class TemporalBlock(nn.Module):
    """Residual block of two dilated, non-causal 1-D convolutions with per-frame LayerNorm."""

    def __init__(self, channels: int, kernel_size: int, dilation: int, dropout: float):
        super().__init__()
        padding = dilation * (kernel_size - 1) // 2
        self.conv1 = nn.Conv1d(channels, channels, kernel_size, padding=padding, dilation=dilation)
        self.conv2 = nn.Conv1d(channels, channels, kernel_size, padding=padding, dilation=dilation)
        self.norm1 = nn.LayerNorm(channels)
        self.norm2 = nn.LayerNorm(channels)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        """``x`` ``(B, T, C)`` with padded frames at zero, ``keep`` ``(B, T, 1)`` float."""
        h = self.conv1(x.transpose(1, 2)).transpose(1, 2)
        h = self.dropout(F.gelu(self.norm1(h))) * keep
        h = self.conv2(h.transpose(1, 2)).transpose(1, 2)
        h = self.dropout(F.gelu(self.norm2(h))) * keep
        return x + h


def sinusoidal_positions(length: int, dim: int, device: torch.device) -> torch.Tensor:
    """``(length, dim)`` sinusoidal position encodings (Vaswani et al.)."""
    position = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    rate = torch.exp(torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim, device=device)
    table[:, 0::2] = torch.sin(position * rate)
    table[:, 1::2] = torch.cos(position * rate[: dim // 2])
    return table


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``x`` ``(B, T, C)`` over the frames where ``mask`` ``(B, T)`` is True."""
    keep = mask.unsqueeze(-1).to(x.dtype)
    return (x * keep).sum(dim=1) / keep.sum(dim=1).clamp_min(1.0)


class TemporalRegressor(nn.Module):
    """TCN + Transformer encoder over a feature sequence, mean-pooled, six logits (one per emotion).

    Call it as ``model(x, mask)`` for clip logits ``(B, 6)``; intensities are their sigmoid.
    """

    def __init__(self, config: TemporalConfig):
        super().__init__()
        self.config = config
        self.input_norm = nn.LayerNorm(config.input_dim)
        self.input_proj = nn.Linear(config.input_dim, config.d_model)
        self.tcn = nn.ModuleList(
            TemporalBlock(config.d_model, config.kernel_size, d, config.dropout) for d in config.dilations
        )
        layer = nn.TransformerEncoderLayer(
            config.d_model,
            config.heads,
            config.ff_dim,
            config.dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False)
        self.output_norm = nn.LayerNorm(config.d_model)
        self.head = nn.Linear(config.d_model, len(EMOTIONS))

    def encode(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Per-frame encodings ``(B, T, d_model)``; padded frames are zero. Every row needs a real frame."""
        keep = mask.unsqueeze(-1).to(x.dtype)
        h = self.input_proj(self.input_norm(x)) * keep
        for block in self.tcn:
            h = block(h, keep)
        h = h + sinusoidal_positions(h.shape[1], h.shape[2], h.device)
        h = self.encoder(h, src_key_padding_mask=~mask)
        return self.output_norm(h) * keep

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Clip logits ``(B, 6)``: the head applied to the mean encoding over real frames."""
        return self.head(masked_mean(self.encode(x, mask), mask))

    def frame_logits(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Per-frame logits ``(B, T, 6)``; their mean over real frames equals :meth:`forward`."""
        return self.head(self.encode(x, mask))

    def predict_frames(self, sequences: Sequence[np.ndarray], batch_size: int = 16) -> list[np.ndarray]:
        """Per-frame logits ``(T_i, 6)`` float64 for each ``(T_i, D)`` sequence (each ``T_i ≥ 1``).

        A sequence longer than ``max_len`` is split into ``ceil(T / max_len)`` near-equal consecutive
        windows, each encoded on its own (the context a training crop has). Windows of all sequences
        are batched together, longest first, to limit padding. Runs under ``torch.inference_mode``.
        """
        windows: list[tuple[int, int, int]] = []  # (sequence index, start, stop)
        for index, seq in enumerate(sequences):
            length = len(seq)
            if length == 0:
                raise ValueError(f"sequence {index} is empty; leave empty channels out")
            bounds = np.linspace(0, length, math.ceil(length / self.config.max_len) + 1).round().astype(int)
            windows.extend((index, int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True))
        windows.sort(key=lambda w: w[2] - w[1], reverse=True)
        outputs = [np.empty((len(seq), len(EMOTIONS)), dtype=np.float64) for seq in sequences]
        device = next(self.parameters()).device
        was_training = self.training
        self.eval()
        try:
            with torch.inference_mode():
                for first in range(0, len(windows), batch_size):
                    chunk = windows[first : first + batch_size]
                    x, mask = pad_sequences([sequences[i][a:b] for i, a, b in chunk], device)
                    logits = self.frame_logits(x, mask).double().cpu().numpy()
                    for row, (i, a, b) in enumerate(chunk):
                        outputs[i][a:b] = logits[row, : b - a]
        finally:
            self.train(was_training)
        return outputs


def pad_sequences(
    sequences: Sequence[np.ndarray], device: torch.device | str = "cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-pad ``(T_i, D)`` arrays into ``x`` ``(B, T_max, D)`` float32 and ``mask`` ``(B, T_max)`` bool."""
    lengths = [len(s) for s in sequences]
    dim = np.asarray(sequences[0]).shape[1]
    x = np.zeros((len(sequences), max(lengths), dim), dtype=np.float32)
    mask = np.zeros((len(sequences), max(lengths)), dtype=bool)
    for row, (seq, length) in enumerate(zip(sequences, lengths, strict=True)):
        x[row, :length] = seq
        mask[row, :length] = True
    return torch.from_numpy(x).to(device), torch.from_numpy(mask).to(device)


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function on numpy arrays."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(logits, dtype=np.float64)))
