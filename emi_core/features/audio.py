"""The paper's audio channel: Wav2Vec2 hidden states of one layer, about 50 per second.

Backbone (``--audio-backbone``): a Hugging Face Hub id (default :data:`DEFAULT_AUDIO_BACKBONE`) or a
local folder in ``save_pretrained`` format (``config.json`` + ``model.safetensors``), loaded with
``transformers.Wav2Vec2Model.from_pretrained`` (a ``Wav2Vec2ForCTC`` checkpoint such as the default
loads without its CTC head); or ``random`` (the wav2vec2-base architecture: 12 layers of 768) /
``random:CONFIG`` (the architecture of a ``config.json`` or a folder holding one) with seeded random
weights, for tests and benchmarks only.

Layer (``--audio-layer``): index into the model's hidden states, 0 (the input of the first Transformer
layer) to ``num_hidden_layers`` (the last, the default: the paper does not name a layer). Layers above
the one asked for are not computed.

Input, as in the paper: 16 kHz mono, **peak-normalised to −3 dBFS**; then, when the checkpoint's
``preprocessor_config.json`` says ``do_normalize`` (the default, as for wav2vec2-base-960h),
standardised to zero mean and unit variance over the whole clip, exactly what its feature extractor
does (the standardisation makes the peak normalisation moot for such checkpoints; it matters for
those that take raw levels).

Long audio is processed in **chunks** of ``chunk_s`` seconds (20) overlapping by ``overlap_s`` (1),
aligned to the model's frame stride (20 ms): each chunk's frames are exactly the single-pass frames
of the same samples, and each chunk keeps its frames up to the middle of the overlap with the next,
so the sequence has the single-pass length and times while memory stays flat. Frames within 0.5 s
of a chunk boundary see less context than a single pass would give them. Frame ``g`` is stamped at
the centre of its receptive field: ``(g · stride + receptive_field / 2) / 16000`` s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from emi_core.errors import ModelError
from emi_core.features.backbones import (
    DEFAULT_AUDIO_BACKBONE,
    RANDOM,
    check_fingerprint,
    is_random,
    load_pretrained,
    locate,
    quiet_transformers,
    read_json,
    recorded_name,
    seeded,
    sha256_files,
    sha256_module,
    weight_file,
)

OPTION = "audio backbone"
SAMPLE_RATE = 16_000
PEAK_DBFS = -3.0
CHUNK_S = 20.0
OVERLAP_S = 1.0
STANDARDIZE_EPS = 1e-7
"""Added to the variance before standardising, as in transformers' Wav2Vec2FeatureExtractor."""

HINT = (
    "give a Hub id whose files are in the local Hugging Face cache, or a local folder "
    "saved with save_pretrained (config.json + model.safetensors), e.g. a copy of facebook/wav2vec2-base-960h; "
    "or 'random' / 'random:CONFIG' for random weights (tests only)"
)
_ARCHITECTURE_SKIP = ("transformers_version", "architectures", "torch_dtype", "dtype")


@dataclass(frozen=True)
class AudioSequence:
    """Per-frame features ``(T, D)`` float32 and their times ``(T,)`` float32 in seconds."""

    features: np.ndarray
    times: np.ndarray


class Wav2Vec2Features:
    """``features(waveform 16 kHz float32) -> AudioSequence``: one Wav2Vec2 layer's hidden states."""

    def __init__(
        self,
        model: nn.Module,
        source: str,
        weights_sha256: str,
        layer: int | None = None,
        *,
        standardize: bool = True,
        architecture: dict[str, Any] | None = None,
        device: str | torch.device = "cpu",
        chunk_s: float = CHUNK_S,
        overlap_s: float = OVERLAP_S,
    ):
        config = model.config
        layers = int(config.num_hidden_layers)
        self.layer = layers if layer is None else int(layer)
        if not 0 <= self.layer <= layers:
            raise ModelError(f"audio layer {layer}: {source} has hidden states 0 to {layers}")
        self.device = torch.device(device)
        self.model = _keep_layers(model, self.layer).to(self.device).eval()
        self.source = source
        self.weights_sha256 = weights_sha256
        self.standardize = bool(standardize)
        self.architecture = architecture
        self.dim = int(config.hidden_size)
        self.stride = int(np.prod(config.conv_stride))
        self.receptive_field = _receptive_field(config.conv_kernel, config.conv_stride)
        self.chunk_s, self.overlap_s = float(chunk_s), float(overlap_s)
        self.chunk_frames = max(2, round(chunk_s * SAMPLE_RATE / self.stride))
        self.overlap_frames = max(2, round(overlap_s * SAMPLE_RATE / self.stride))
        if self.overlap_frames >= self.chunk_frames - 1 or self.chunk_frames * self.stride < 2 * self.receptive_field:
            raise ValueError(f"chunks of {chunk_s} s overlapping by {overlap_s} s are too short for this model")

    @property
    def description(self) -> dict[str, Any]:
        """JSON-ready facts that determine the features (recorded in the extractor config)."""
        out = {
            "backbone": self.source,
            "backbone_format": RANDOM if self.architecture is not None else "transformers",
            "weights_sha256": self.weights_sha256,
            "layer": self.layer,
            "standardize": self.standardize,
            "peak_dbfs": PEAK_DBFS,
            "sample_rate": SAMPLE_RATE,
            "chunk_s": self.chunk_s,
            "overlap_s": self.overlap_s,
        }
        if self.architecture is not None:
            out["architecture"] = self.architecture
        return out

    def prepare(self, waveform: np.ndarray) -> np.ndarray | None:
        """Peak-normalise to −3 dBFS, then standardise if the checkpoint expects it; ``None`` for silence."""
        x = np.asarray(waveform, dtype=np.float64).reshape(-1)
        peak = float(np.abs(x).max()) if x.size else 0.0
        if peak == 0.0 or not np.isfinite(peak):
            return None
        x = x * (10 ** (PEAK_DBFS / 20) / peak)
        if self.standardize:
            x = (x - x.mean()) / math.sqrt(x.var() + STANDARDIZE_EPS)
        return x.astype(np.float32)

    def frame_count(self, samples: int) -> int:
        """Frames the model makes from ``samples`` samples (0 below one receptive field)."""
        return 0 if samples < self.receptive_field else (samples - self.receptive_field) // self.stride + 1

    def __call__(self, waveform: np.ndarray) -> AudioSequence:
        """Features of a 16 kHz mono waveform (see the module docstring); empty for silence or < 25 ms."""
        x = self.prepare(waveform)
        total = 0 if x is None else self.frame_count(len(x))
        features = np.empty((total, self.dim), dtype=np.float32)
        if total:
            hop = (self.chunk_frames - self.overlap_frames) * self.stride
            chunk = self.chunk_frames * self.stride
            starts = [0]
            while starts[-1] + chunk < len(x):
                starts.append(starts[-1] + hop)
            half = self.overlap_frames // 2
            with torch.inference_mode():
                for index, start in enumerate(starts):
                    first = start // self.stride
                    keep_from = 0 if index == 0 else first + half
                    keep_to = total if index == len(starts) - 1 else starts[index + 1] // self.stride + half
                    hidden = self._hidden(x[start : start + chunk])
                    features[keep_from:keep_to] = hidden[keep_from - first : keep_to - first]
        times = (np.arange(total) * self.stride + self.receptive_field / 2) / SAMPLE_RATE
        return AudioSequence(features, times.astype(np.float32))

    def _hidden(self, samples: np.ndarray) -> np.ndarray:
        inputs = torch.from_numpy(np.ascontiguousarray(samples))[None].to(self.device)
        output = self.model(inputs, output_hidden_states=True)
        return output.hidden_states[self.layer][0].float().cpu().numpy()


def load_wav2vec2(
    source: str | None = DEFAULT_AUDIO_BACKBONE,
    device: str | torch.device = "cpu",
    *,
    layer: int | None = None,
    expected_sha256: str | None = None,
    architecture: dict[str, Any] | None = None,
    search_dirs: tuple[Path, ...] = (),
    chunk_s: float = CHUNK_S,
    overlap_s: float = OVERLAP_S,
) -> Wav2Vec2Features:
    """The :class:`Wav2Vec2Features` for ``source``; :class:`ModelError` when it cannot be had.

    ``architecture``: for random weights, the recorded config dict (instead of parsing ``source``);
    ``expected_sha256``: the weights must be these; ``search_dirs``: also look there for the folder
    name of a local ``source`` that does not exist.
    """
    from transformers import Wav2Vec2Config, Wav2Vec2Model

    source = str(source or DEFAULT_AUDIO_BACKBONE)
    if is_random(source):
        if architecture is None:
            config = _random_architecture(source)
            architecture = {
                k: v for k, v in config.to_dict().items() if k not in _ARCHITECTURE_SKIP and not k.startswith("_")
            }
        config = Wav2Vec2Config(**architecture)
        with seeded(), quiet_transformers():
            model = Wav2Vec2Model(config)
        sha256, standardize, source = sha256_module(model), True, RANDOM
    else:
        folder = locate(source, option=OPTION, hint=HINT, search_dirs=search_dirs)
        if not folder.is_dir() or not (folder / "config.json").is_file():
            raise ModelError(f"{OPTION} {source}: not a folder with config.json; {HINT}")
        weights = weight_file(folder, f"{OPTION} {source}")
        model = load_pretrained(Wav2Vec2Model, folder, f"{OPTION} {source}")
        processor = folder / "preprocessor_config.json"
        settings = read_json(processor, f"{OPTION} {source}") if processor.is_file() else {}
        sha256, standardize = sha256_files([weights]), bool(settings.get("do_normalize", True))
        architecture = None
        source = recorded_name(source)
    check_fingerprint(sha256, expected_sha256, f"{OPTION} {source}")
    return Wav2Vec2Features(
        model,
        source,
        sha256,
        layer,
        standardize=standardize,
        architecture=architecture,
        device=device,
        chunk_s=chunk_s,
        overlap_s=overlap_s,
    )


def _random_architecture(source: str):
    from transformers import Wav2Vec2Config

    if source == RANDOM:
        return Wav2Vec2Config()
    path = Path(source.split(":", 1)[1]).expanduser()
    path = path / "config.json" if path.is_dir() else path
    if not path.is_file():
        raise ModelError(f"{OPTION} {source}: {path} is not a config.json or a folder holding one; {HINT}")
    return Wav2Vec2Config(**read_json(path, f"{OPTION} {source}"))


def _keep_layers(model: nn.Module, layer: int) -> nn.Module:
    """Drop the Transformer layers above ``layer``: they do not change ``hidden_states[layer]``.

    In transformers 5 ``hidden_states[i]`` is the raw output of layer ``i`` (0: the input of layer 1)
    for post- and pre-norm (stable layer norm) models alike; at least one layer is kept because the
    hidden states are recorded around the layers.
    """
    model.encoder.layers = nn.ModuleList(list(model.encoder.layers)[: max(1, layer)])
    return model


def _receptive_field(kernels, strides) -> int:
    field = 1
    for kernel, stride in zip(reversed(list(kernels)), reversed(list(strides)), strict=True):
        field = (field - 1) * stride + kernel
    return field
