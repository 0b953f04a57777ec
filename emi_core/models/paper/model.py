"""The paper's model: one temporal regressor per channel and late fusion, with Hugging Face I/O.

``EMIModel`` bundles one temporal regressor per channel of :data:`~emi_core.channels.CHANNELS` it
has, e.g. a :class:`VisualEMIModel` (dual-channel ResNet18 ⊕ AU sequences) and an
:class:`AudioEMIModel` (Wav2Vec2 hidden states). Each channel is its own regressor trained on its own
features; the clip estimate is their late fusion (:class:`~emi_core.fusion.FusionWeights`: the
paper's average of the channels that have input, per-emotion weights or a learned map fitted on
validation predictions).

Checkpoint folder (``save_pretrained``)::

    config.json         {"model_type": "emi-paper", "format_version", <one entry per channel>, "fusion", "info"}
    model.safetensors   weights, keys "regressors.<channel>.*"
    README.md           generated model card (YAML front matter + data, splits, metrics, backbones, limits)

``config[<channel>]`` is ``{"model": TemporalConfig, "features": {"name", "config", "dim"}}`` (``null``
for a channel the model lacks); ``config["fusion"]`` is :meth:`FusionWeights.to_dict`;
``features`` is the :class:`~emi_core.features.cache.ExtractorSpec` that produced the training
features (backbone id, frame rate, layer, AU names …), so the same extractor can be rebuilt to serve
the model.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import safetensors.torch
import torch
from huggingface_hub import ModelCard, PyTorchModelHubMixin, hf_hub_download
from huggingface_hub.errors import HfHubHTTPError, HFValidationError
from safetensors import SafetensorError
from torch import nn

from emi_core.atomic import atomic_path
from emi_core.channels import CHANNELS, FUSED
from emi_core.emotions import EMOTIONS
from emi_core.errors import ModelError
from emi_core.features.cache import ExtractorSpec, FeatureCache, FeatureStore
from emi_core.fusion import FusionWeights, fuse
from emi_core.models.temporal import TemporalConfig, TemporalRegressor, sigmoid
from emi_core.result import Curve

MODEL_TYPE = "emi-paper"
"""``config["model_type"]`` of checkpoints written by :class:`EMIModel`."""

FORMAT_VERSION = 1
"""``config["format_version"]`` of checkpoints written by this module."""

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"

HUB_CHECK_TIMEOUT_S = 5.0
"""How long the quick Hub check before a download may take."""


class ChannelEMIModel(TemporalRegressor):
    """A :class:`TemporalRegressor` bound to one channel."""

    channel: ClassVar[str]

    def predict_clips(self, sequences: Sequence[np.ndarray | None], batch_size: int = 16) -> np.ndarray:
        """Clip intensities ``(N, 6)`` in [0, 1]; a ``None`` or empty sequence gives a NaN row."""
        present = [i for i, seq in enumerate(sequences) if seq is not None and len(seq) > 0]
        out = np.full((len(sequences), len(EMOTIONS)), np.nan)
        for i, frames in zip(present, self.predict_frames([sequences[i] for i in present], batch_size), strict=True):
            out[i] = sigmoid(frames.mean(axis=0))
        return out


class VisualEMIModel(ChannelEMIModel):
    """Visual channel: per sampled frame with a face, ResNet18 embedding (512) ⊕ AU intensities."""

    channel = "visual"


class AudioEMIModel(ChannelEMIModel):
    """Audio channel: Wav2Vec2 hidden states of one layer (768 for a base model), ~50 per second."""

    channel = "audio"


class TextEMIModel(ChannelEMIModel):
    """Text channel: sentence embeddings of the transcript's word windows (384 for MiniLM), ~2 per second."""

    channel = "text"


CHANNEL_MODELS: dict[str, type[ChannelEMIModel]] = {m.channel: m for m in (VisualEMIModel, AudioEMIModel, TextEMIModel)}


def predict_store(
    regressor: ChannelEMIModel, store: FeatureStore, ids: Sequence[str], batch_size: int = 16
) -> np.ndarray:
    """Clip intensities ``(N, 6)`` of ``ids`` from ``store``; NaN rows where a video is absent or empty.

    Reads ``8 * batch_size`` videos at a time, so memory stays bounded on large splits.
    """
    out = np.full((len(ids), len(EMOTIONS)), np.nan)
    step = 8 * batch_size
    for first in range(0, len(ids), step):
        chunk = ids[first : first + step]
        sequences = [store.read(i)[0] if store.has(i) else None for i in chunk]
        out[first : first + len(chunk)] = regressor.predict_clips(sequences, batch_size)
    return out


def channel_config(features: ExtractorSpec, model: TemporalConfig) -> dict[str, Any]:
    """The argument of :class:`EMIModel` for one channel (``visual=…``, ``audio=…``)."""
    return {"features": features.to_dict(), "model": model.to_dict()}


class EMIModel(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="emi-studio",
    license="other",
    paper_url="https://arxiv.org/abs/2403.11757",
    tags=["emotion-recognition", "affective-computing", "ABAW", "emotional-mimicry-intensity"],
):
    """One temporal regressor per channel, with late fusion.

    Args:
        fusion: a :class:`~emi_core.fusion.FusionWeights` or its :meth:`~FusionWeights.to_dict` form
            (default: the paper's mean).
        info: provenance and results (training data, splits, metrics) shown in the model card.
        **channels: ``visual=``, ``audio=`` …: :func:`channel_config` dicts (or ``None``); at least one.
    """

    def __init__(
        self,
        fusion: FusionWeights | dict[str, Any] | None = None,
        info: dict[str, Any] | None = None,
        **channels: dict[str, Any] | None,
    ):
        super().__init__()
        unknown = set(channels) - set(CHANNELS)
        if unknown:
            raise ValueError(f"unknown channel(s) {', '.join(sorted(unknown))}; expected some of {CHANNELS}")
        self.regressors = nn.ModuleDict()
        self.features: dict[str, ExtractorSpec] = {}
        for channel in CHANNELS:
            spec = channels.get(channel)
            if spec is None:
                continue
            features = ExtractorSpec.from_dict(spec["features"])
            temporal = TemporalConfig.from_dict(spec["model"])
            if features.channel != channel:
                raise ValueError(f"{channel} channel given features of extractor {features.name}")
            if temporal.input_dim != features.dim:
                raise ValueError(f"{channel}: model input_dim {temporal.input_dim} != feature dim {features.dim}")
            self.regressors[channel] = CHANNEL_MODELS[channel](temporal)
            self.features[channel] = features
        if not self.regressors:
            raise ValueError("an EMIModel needs at least one channel")
        self.fusion = fusion if isinstance(fusion, FusionWeights) else FusionWeights.from_dict(fusion)
        self.info: dict[str, Any] = dict(info or {})

    # -- description --------------------------------------------------------------------------

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels this model has, in :data:`~emi_core.channels.CHANNELS` order."""
        return tuple(c for c in CHANNELS if c in self.regressors)

    def regressor(self, channel: str) -> ChannelEMIModel:
        """The regressor of ``channel``; :class:`KeyError` if the model has none."""
        return self.regressors[channel]

    @property
    def config(self) -> dict[str, Any]:
        """The JSON written as ``config.json``."""
        channels = {
            c: channel_config(self.features[c], self.regressors[c].config) if c in self.regressors else None
            for c in CHANNELS
        }
        return {
            "model_type": MODEL_TYPE,
            "format_version": FORMAT_VERSION,
            **channels,
            "fusion": self.fusion.to_dict(),
            "info": self.info,
        }

    # -- inference ----------------------------------------------------------------------------

    def predict(self, batch_size: int = 16, **features: Sequence[np.ndarray | None] | None) -> dict[str, Any]:
        """Clip intensities for a batch of videos.

        ``visual=``, ``audio=`` … are lists of per-video ``(T, D)`` feature sequences (``None`` or empty
        where a video has no input for that channel), or ``None`` for a channel not given. Returns
        ``{channel…, "fused"}``: ``(N, 6)`` float64 arrays in [0, 1] with NaN rows where that video had
        no input, or ``None`` when the channel was not given or the model lacks it. ``fused`` uses
        the available channel(s) of each video (NaN only when all are missing).
        """
        ordered_given = {c: features[c] for c in CHANNELS if features.get(c) is not None}
        unknown = set(features) - set(CHANNELS)
        if unknown:
            raise ValueError(f"unknown channel(s) {', '.join(sorted(unknown))}; expected some of {CHANNELS}")
        sizes = {len(v) for v in ordered_given.values()}
        if len(sizes) > 1:
            raise ValueError(f"the channels' batches differ in size: {sorted(sizes)}")
        out: dict[str, Any] = {channel: None for channel in CHANNELS}
        for channel, sequences in ordered_given.items():
            if channel in self.regressors:
                self._check_dims(channel, sequences)
                out[channel] = self.regressors[channel].predict_clips(sequences, batch_size)
        out[FUSED] = self.fuse(out)
        return out

    def fuse(self, outputs: dict[str, np.ndarray | None]) -> np.ndarray | None:
        """Late fusion of ``{channel: (N, 6)}`` intensities, row by row over the channels present."""
        return fuse(outputs, self.fusion)

    def predict_clip(self, channel: str, features: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, Curve]:
        """One clip, one channel, one pass: its ``(6,)`` intensities and their per-frame :class:`Curve`.

        ``features`` is ``(T, D)`` with ``T ≥ 1`` and ``times`` ``(T,)`` seconds. The curve is the sigmoid
        of the per-frame logits (the head applied to every frame's encoding, in the same windows as
        :meth:`predict`); the clip intensity is the sigmoid of their **mean** logit, exactly what
        :meth:`predict` returns. It is not the mean of the curve, but always lies within its range.
        """
        self._check_dims(channel, [features])
        logits = self.regressors[channel].predict_frames([features])[0]
        return sigmoid(logits.mean(axis=0)), Curve(np.asarray(times, dtype=np.float64), sigmoid(logits))

    @property
    def random_weights(self) -> bool:
        """Whether any channel's features come from a backbone with random weights (not predictions)."""
        return any(spec.random_weights for spec in self.features.values())

    def predict_cached(self, cache: FeatureCache, ids: Sequence[str], batch_size: int = 16) -> dict[str, Any]:
        """:meth:`predict` for videos whose features are in ``cache`` (the stores this model was trained on).

        Videos missing from a store (or stored with no frames) get NaN rows for that channel. Raises
        :class:`~emi_core.features.cache.CacheError` when the cache lacks one of the model's stores.
        """
        out: dict[str, Any] = {channel: None for channel in CHANNELS}
        for channel in self.channels:
            store = cache.open(self.features[channel])
            out[channel] = predict_store(self.regressors[channel], store, ids, batch_size)
        out[FUSED] = self.fuse(out)
        return out

    def _check_dims(self, channel: str, sequences: Sequence[np.ndarray | None]) -> None:
        dim = self.features[channel].dim
        for seq in sequences:
            if seq is not None and len(seq) and np.shape(seq)[1:] != (dim,):
                raise ValueError(f"{channel} features must be (T, {dim}), got {np.shape(seq)}")

    # -- Hugging Face I/O ---------------------------------------------------------------------

    def generate_model_card(self, *args, **kwargs) -> ModelCard:
        """The generated model card (see :mod:`emi_core.models.paper.model_card`)."""
        from emi_core.models.paper.model_card import build_model_card

        return build_model_card(self.config)

    def _save_pretrained(self, save_directory: Path) -> None:
        """Write weights, ``config.json`` and ``README.md`` (each file atomically)."""
        with atomic_path(save_directory / WEIGHTS_FILE) as tmp:
            safetensors.torch.save_model(self, str(tmp), metadata={"format": "pt"})
        with atomic_path(save_directory / CONFIG_FILE) as tmp:
            tmp.write_text(json.dumps(self.config, indent=2, sort_keys=True, allow_nan=False) + "\n", encoding="utf-8")
        with atomic_path(save_directory / "README.md") as tmp:
            self.generate_model_card().save(tmp)

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | Path, **kwargs) -> EMIModel:
        """Load a checkpoint folder or Hugging Face hub id; :class:`~emi_core.errors.ModelError` if impossible.

        Keyword arguments are those of ``PyTorchModelHubMixin.from_pretrained`` plus ``map_location``
        (``"cpu"`` by default, or e.g. ``"cuda"``). The model is returned in eval mode.
        """
        name = str(pretrained_model_name_or_path)
        path = Path(name).expanduser()
        if path.is_dir():
            missing = [f for f in (CONFIG_FILE, WEIGHTS_FILE) if not (path / f).is_file()]
            if missing:
                raise ModelError(f"{name} is not a model folder: {' and '.join(missing)} missing")
            return super().from_pretrained(path, **kwargs)
        if _looks_like_a_path(name, path):
            raise ModelError(f"model folder {name} does not exist")
        _check_hub(name)
        try:
            return super().from_pretrained(name, **kwargs)
        except (HfHubHTTPError, HFValidationError, OSError) as err:
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ModelError(
                f"no model {name!r}: it is not a local folder and the Hugging Face Hub could not provide it ({reason})"
            ) from None

    @classmethod
    def _from_pretrained(
        cls,
        *,
        model_id: str,
        revision: str | None,
        cache_dir: str | Path | None,
        force_download: bool,
        local_files_only: bool,
        token: str | bool | None,
        config: dict[str, Any] | None = None,
        map_location: str | torch.device = "cpu",
        **model_kwargs: Any,
    ) -> EMIModel:
        if not isinstance(config, dict) or config.get("model_type") != MODEL_TYPE:
            raise ModelError(f"{model_id} is not an EMI studio paper-model checkpoint (config.json model_type)")
        if config.get("format_version") != FORMAT_VERSION:
            raise ModelError(
                f"{model_id}: checkpoint format {config.get('format_version')!r}, expected {FORMAT_VERSION}"
            )
        if os.path.isdir(model_id):
            weights = os.path.join(model_id, WEIGHTS_FILE)
        else:
            weights = hf_hub_download(
                repo_id=model_id,
                filename=WEIGHTS_FILE,
                revision=revision,
                cache_dir=cache_dir,
                force_download=force_download,
                token=token,
                local_files_only=local_files_only,
            )
        try:
            model = cls(**{key: config.get(key) for key in (*CHANNELS, "fusion", "info")})
        except (KeyError, TypeError, ValueError) as err:
            raise ModelError(f"{model_id}: invalid config.json ({err})") from None
        try:
            safetensors.torch.load_model(model, weights, strict=True)
        except (RuntimeError, OSError, SafetensorError) as err:
            raise ModelError(f"{model_id}: weights do not fit config.json ({str(err).splitlines()[0]})") from None
        return model.to(map_location).eval()


def _looks_like_a_path(name: str, path: Path) -> bool:
    """Whether ``name`` (no folder by that name) is meant as a local path rather than a hub id: it
    exists as a file, is absolute or relative (``./``, ``~``), has more than one ``/``, a backslash or
    a trailing ``/``, or lies in a folder that exists here (``runs/paper`` beside a ``runs/``)."""
    return (
        path.exists()
        or path.is_absolute()
        or name.startswith((".", "~"))
        or name.count("/") > 1
        or "\\" in name
        or name.endswith("/")
        or (path.parent != Path(".") and path.parent.is_dir())
    )


def _check_hub(model_id: str) -> None:
    """One quick request to the Hub before downloading (whose client retries for half a minute when
    the Hub is unreachable); skipped offline (``HF_HUB_OFFLINE``) or when the checkpoint is cached."""
    from huggingface_hub import HfApi, constants, try_to_load_from_cache

    if constants.HF_HUB_OFFLINE or isinstance(try_to_load_from_cache(model_id, CONFIG_FILE), str):
        return
    try:
        HfApi().model_info(model_id, timeout=HUB_CHECK_TIMEOUT_S)
    except (HfHubHTTPError, HFValidationError) as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ModelError(
            f"no model {model_id!r}: it is not a local folder and not on the Hugging Face Hub ({reason})"
        ) from None
    except Exception as err:  # the Hub's HTTP client's connection errors (no common base class to name)
        raise ModelError(
            f"no model {model_id!r}: it is not a local folder and the Hugging Face Hub is unreachable ({err})"
        ) from None
