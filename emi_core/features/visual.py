"""The paper's visual channel: ResNet18 embeddings of aligned face crops ⊕ AU intensities, per frame.

Backbone (``--visual-backbone``), one of:

* a **torchvision state dict** file (``.pth`` / ``.pt`` / ``.bin`` / ``.safetensors``), e.g. torchvision's
  ``resnet18-f37072fd.pth`` or a ResNet18 fine-tuned on faces (a ``{"state_dict": ...}`` or
  ``{"model": ...}`` wrapper and ``module.`` / ``model.`` prefixes are accepted);
* a **timm** folder or Hub id (``config.json`` with ``"architecture": "resnet18..."`` +
  ``model.safetensors``, e.g. ``timm/resnet18.a1_in1k``): timm's ResNet18 keys are torchvision's
  (``conv1``, ``bn1``, ``layer1``..``layer4``, ``fc``), so the weights load into torchvision's network;
  its ``pretrained_cfg`` mean / std are used;
* a **transformers** ``ResNetModel`` folder or Hub id (``config.json`` with ``"model_type": "resnet"``,
  e.g. ``microsoft/resnet-18``), loaded with ``ResNetModel.from_pretrained``; the embedding is its
  pooled output, normalised with ``preprocessor_config.json``'s mean / std when present;
* ``random``: torchvision's ResNet18 with seeded random weights (tests and benchmarks only).

The embedding is the 512-d global-average-pooled output of the last stage (the classifier is dropped).

Input and resize policy: the tracker's aligned **112 × 112 RGB** crop (the paper's face size) goes in
**as is** — ResNet18 ends in adaptive average pooling, so no resize is needed and none is done by
default; a backbone trained at 224 px can be fed upsampled crops with ``input_size=224`` (bilinear,
antialiased), at 4× the compute. Pixels are scaled to [0, 1] and normalised with the backbone's
mean / std (ImageNet's unless its config says otherwise).

The dual-channel sequence (:func:`dual_features`) concatenates, for every sampled frame with a face,
the embedding and the AU vector of :func:`emi_core.features.au.estimate_aus` (:data:`AU_NAMES`
order); frames without a face are dropped, as in the paper, and their times go with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torchvision
from torch import nn
from torch.nn import functional as F

from emi_core.errors import ModelError
from emi_core.features.backbones import (
    RANDOM,
    check_fingerprint,
    load_pretrained,
    locate,
    read_json,
    recorded_name,
    seeded,
    sha256_files,
    sha256_module,
    weight_file,
)

OPTION = "visual backbone"
IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
RESNET18_DIM = 512
DEFAULT_INPUT_SIZE = 112
STATE_DICT_SUFFIXES = (".pth", ".pt", ".bin", ".safetensors")
HINT = (
    "give a ResNet18 state dict (.pth, e.g. torchvision's resnet18-f37072fd.pth), "
    "a timm or Hugging Face ResNet folder (config.json + model.safetensors) or its Hub id, "
    "or 'random' for random weights (tests only)"
)
_PREFIXES = ("module.", "model.")


@dataclass(frozen=True)
class LoadedNetwork:
    """A network mapping normalised ``(B, 3, S, S)`` images to ``(B, dim)`` embeddings, and its facts."""

    network: nn.Module
    dim: int
    format: str
    weights_sha256: str
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD


class FaceEmbedder:
    """ResNet embeddings of aligned face crops: ``embedder(crops (F, S, S, 3) uint8) -> (F, dim) float32``.

    ``description`` is what an extractor config records about the backbone (source, format, weights
    sha256, normalisation, input size); :func:`load_face_embedder` with the same ``source`` and
    ``expected_sha256`` gets the same embedder back.
    """

    def __init__(
        self,
        loaded: LoadedNetwork,
        source: str,
        device: str | torch.device = "cpu",
        input_size: int = DEFAULT_INPUT_SIZE,
        batch_size: int = 64,
    ):
        self.device = torch.device(device)
        self.network = loaded.network.to(self.device).eval()
        if self.device.type == "cpu":
            self.network = self.network.to(memory_format=torch.channels_last)
        self.loaded = loaded
        self.source = source
        self.input_size = int(input_size)
        self.batch_size = int(batch_size)
        self._mean = torch.tensor(loaded.mean, device=self.device).view(1, 3, 1, 1) * 255.0
        self._std = torch.tensor(loaded.std, device=self.device).view(1, 3, 1, 1) * 255.0

    @property
    def dim(self) -> int:
        """Embedding size (512 for ResNet18)."""
        return self.loaded.dim

    @property
    def description(self) -> dict[str, Any]:
        """JSON-ready facts that determine the embeddings (recorded in the extractor config)."""
        return {
            "backbone": self.source,
            "backbone_format": self.loaded.format,
            "weights_sha256": self.loaded.weights_sha256,
            "input_size": self.input_size,
            "mean": [round(float(v), 6) for v in self.loaded.mean],
            "std": [round(float(v), 6) for v in self.loaded.std],
        }

    def preprocess(self, crops: np.ndarray) -> torch.Tensor:
        """``(B, S, S, 3)`` uint8 RGB → normalised ``(B, 3, input_size, input_size)`` float32 on the device."""
        x = torch.from_numpy(np.ascontiguousarray(crops)).to(self.device, non_blocking=True)
        x = x.permute(0, 3, 1, 2).float()
        if x.shape[-1] != self.input_size or x.shape[-2] != self.input_size:
            x = F.interpolate(x, size=(self.input_size, self.input_size), mode="bilinear", antialias=True)
        x = (x - self._mean) / self._std
        return x.contiguous(memory_format=torch.channels_last) if self.device.type == "cpu" else x

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        """Embeddings ``(F, dim)`` float32 of ``F`` RGB crops, computed in batches of ``batch_size``."""
        crops = np.asarray(crops)
        if crops.ndim != 4 or crops.shape[-1] != 3 or crops.dtype != np.uint8:
            raise ValueError(f"crops must be (F, S, S, 3) uint8 RGB, got {crops.shape} {crops.dtype}")
        out = np.empty((len(crops), self.dim), dtype=np.float32)
        with torch.inference_mode():
            for first in range(0, len(crops), self.batch_size):
                batch = self.preprocess(crops[first : first + self.batch_size])
                out[first : first + len(batch)] = self.network(batch).float().cpu().numpy()
        return out


def load_face_embedder(
    source: str | None,
    device: str | torch.device = "cpu",
    *,
    input_size: int = DEFAULT_INPUT_SIZE,
    expected_sha256: str | None = None,
    search_dirs: tuple[Path, ...] = (),
) -> FaceEmbedder:
    """The :class:`FaceEmbedder` for ``source`` (see the module docstring); :class:`ModelError` if impossible.

    ``expected_sha256``: the weights must be these (a recorded config); ``search_dirs``: also look
    there for the file or folder name of a local ``source`` that does not exist.
    """
    if not source:
        raise ModelError(f"no visual backbone given: {HINT}")
    source = str(source)
    if source == RANDOM:
        loaded = _random_resnet18()
    else:
        path = locate(source, option=OPTION, hint=HINT, search_dirs=search_dirs)
        loaded = _load_folder(path, source) if path.is_dir() else _load_state_dict_file(path, source)
        source = recorded_name(source)
    check_fingerprint(loaded.weights_sha256, expected_sha256, f"{OPTION} {source}")
    return FaceEmbedder(loaded, source, device, input_size)


def dual_features(
    embeddings: np.ndarray, action_units: np.ndarray, times: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The paper's dual-channel sequence: ``(F, dim + K)`` features and ``(F,)`` times of the face frames.

    ``embeddings`` ``(F, dim)``, ``action_units`` ``(F, K)`` and ``times`` ``(F,)`` describe the same F
    frames with a face. A frame whose AUs are not finite (a degenerate mesh) is dropped like a frame
    without a face, so a sequence never holds NaN.
    """
    embeddings = np.asarray(embeddings, dtype=np.float32)
    action_units = np.asarray(action_units, dtype=np.float32)
    times = np.asarray(times, dtype=np.float32)
    if not len(embeddings) == len(action_units) == len(times):
        raise ValueError(f"{len(embeddings)} embeddings, {len(action_units)} AU rows and {len(times)} times")
    keep = np.isfinite(action_units).all(axis=1) & np.isfinite(embeddings).all(axis=1)
    return np.concatenate([embeddings[keep], action_units[keep]], axis=1), times[keep]


def torchvision_resnet18() -> nn.Module:
    """torchvision's ResNet18 without its classifier: ``(B, 3, S, S) -> (B, 512)``."""
    network = torchvision.models.resnet18(weights=None)
    network.fc = nn.Identity()
    return network


def _random_resnet18() -> LoadedNetwork:
    with seeded():
        network = torchvision_resnet18()
    return LoadedNetwork(network, RESNET18_DIM, RANDOM, sha256_module(network))


def _load_state_dict_file(path: Path, source: str) -> LoadedNetwork:
    if path.suffix.lower() not in STATE_DICT_SUFFIXES:
        raise ModelError(f"{OPTION} {source}: unknown file type {path.suffix!r}; {HINT}")
    return LoadedNetwork(
        _torchvision_from_state_dict(_read_state_dict(path, source), source),
        RESNET18_DIM,
        "torchvision",
        sha256_files([path]),
    )


def _load_folder(folder: Path, source: str) -> LoadedNetwork:
    if not (folder / "config.json").is_file():
        raise ModelError(f"{OPTION} {source}: the folder has no config.json; {HINT}")
    config = read_json(folder / "config.json", f"{OPTION} {source}")
    weights = weight_file(folder, f"{OPTION} {source}")
    if "architecture" in config:  # timm
        architecture = str(config["architecture"])
        if architecture.split(".")[0] != "resnet18":
            raise ModelError(f"{OPTION} {source}: timm architecture {architecture!r} is not resnet18; {HINT}")
        pretrained = config.get("pretrained_cfg") or {}
        return LoadedNetwork(
            _torchvision_from_state_dict(_read_state_dict(weights, source), source),
            RESNET18_DIM,
            "timm",
            sha256_files([weights]),
            tuple(pretrained.get("mean", IMAGENET_MEAN)),
            tuple(pretrained.get("std", IMAGENET_STD)),
        )
    if config.get("model_type") == "resnet":
        return _load_transformers_resnet(folder, config, weights, source)
    raise ModelError(f"{OPTION} {source}: config.json is neither a timm nor a transformers ResNet config; {HINT}")


def _load_transformers_resnet(folder: Path, config: dict, weights: Path, source: str) -> LoadedNetwork:
    from transformers import ResNetModel

    model = load_pretrained(ResNetModel, folder, f"{OPTION} {source}")
    processor = folder / "preprocessor_config.json"
    settings = read_json(processor, f"{OPTION} {source}") if processor.is_file() else {}
    return LoadedNetwork(
        _PooledResNet(model),
        int(config.get("hidden_sizes", [RESNET18_DIM])[-1]),
        "transformers",
        sha256_files([weights]),
        tuple(settings.get("image_mean", IMAGENET_MEAN)),
        tuple(settings.get("image_std", IMAGENET_STD)),
    )


class _PooledResNet(nn.Module):
    """A transformers ``ResNetModel`` as ``(B, 3, S, S) -> (B, dim)`` (its pooled output)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.model(pixel_values=pixel_values).pooler_output.flatten(1)


def _read_state_dict(path: Path, source: str) -> dict[str, torch.Tensor]:
    try:
        if path.suffix.lower() == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unreadable file is the user's to fix
        raise ModelError(f"{OPTION} {source}: unreadable weights file ({str(err).splitlines()[0][:160]})") from None
    for wrapper in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(wrapper), dict):
            state = state[wrapper]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelError(f"{OPTION} {source}: the file does not hold a state dict of tensors; {HINT}")
    return state


def _torchvision_from_state_dict(state: dict[str, torch.Tensor], source: str) -> nn.Module:
    """torchvision's ResNet18 (no classifier) with ``state`` (timm or torchvision keys) loaded strictly."""
    cleaned = {}
    for key, value in state.items():
        for prefix in _PREFIXES:
            if key.startswith(prefix):
                key = key[len(prefix) :]
        if not key.startswith("fc."):
            cleaned[key] = value.float() if value.is_floating_point() else value
    network = torchvision_resnet18()
    expected = set(network.state_dict())
    missing, unexpected = sorted(expected - set(cleaned)), sorted(set(cleaned) - expected)
    if missing or unexpected:
        detail = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing[:3])}{'…' if len(missing) > 3 else ''}" if missing else "",
                f"unexpected {', '.join(unexpected[:3])}{'…' if len(unexpected) > 3 else ''}" if unexpected else "",
            )
            if part
        )
        raise ModelError(f"{OPTION} {source}: not a ResNet18 state dict ({detail}); {HINT}")
    try:
        network.load_state_dict(cleaned, strict=True)
    except RuntimeError as err:
        raise ModelError(
            f"{OPTION} {source}: weights do not fit ResNet18 ({str(err).splitlines()[-1].strip()[:160]})"
        ) from None
    return network
