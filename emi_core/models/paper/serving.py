"""Serving a trained paper checkpoint per clip (the app, ``emi predict``); per split: :mod:`emi_core.submission`.

A checkpoint (``config.json`` + ``model.safetensors``, written by ``emi train``) records the extractor
config of each channel: backbone source, weights sha256, frame rate, layer, AU names... That and the
backbones themselves are all that is needed: :meth:`PaperBackend.from_pretrained` rebuilds the exact
extractors (:meth:`~emi_core.features.extract.Extractors.from_specs`), checking the weights' sha256.
A backbone recorded as a local path that is not there (the checkpoint moved to another machine) is
also looked for by name in the checkpoint's ``backbones/`` folder, or can be given explicitly
(``backbones={"visual": PATH}``).

A checkpoint whose features came from **random** backbone weights is served as ``kind="untrained"``:
its outputs must never be shown as predictions.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from emi_core.channels import ordered
from emi_core.device import resolve_device
from emi_core.features.backbones import sha256_module
from emi_core.features.extract import Extractors
from emi_core.models.backend import AudioInput, ChannelOutput, EMIBackend, FaceInput, TextInput
from emi_core.models.paper.model import EMIModel
from emi_core.result import TRAINED, UNTRAINED, ModelInfo
from emi_core.speech import Transcript

BACKBONES_FOLDER = "backbones"
"""Folder of a checkpoint searched for backbones recorded as local paths that do not exist."""

PAPER = "Yu, Zhu & Zhu (CVPRW 2024)"


class PaperBackend(EMIBackend):
    """The paper's model (TCN + Transformer per channel, late fusion) with the backbones it was trained on."""

    crop_size = 112
    grayscale = False
    fixed_rate = True

    def __init__(self, model: EMIModel, extractors: Extractors, info: ModelInfo):
        self.model = model
        self.extractors = extractors
        self.info = info
        self.fusion = model.fusion
        visual = extractors.by_channel.get("visual")
        if visual is not None:
            self.analysis_fps = visual.fps
            self.max_side = visual.max_side
        text = extractors.by_channel.get("text")
        if text is not None:
            self.asr = text.transcriber.source

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | Path,
        *,
        device: str | torch.device = "auto",
        backbones: Mapping[str, str] | None = None,
    ) -> PaperBackend:
        """Load a checkpoint folder or Hub id and its backbones; :class:`~emi_core.errors.ModelError` if impossible.

        ``device="auto"`` uses a CUDA GPU when torch sees one.
        """
        name = str(name_or_path)
        device = resolve_device(device) if isinstance(device, str) else device
        model = EMIModel.from_pretrained(name, map_location=device)
        extractors = Extractors.from_specs(model.features, device, backbones=backbones, search_dirs=search_dirs(name))
        return cls(model, extractors, model_info(name, model))

    def predict_visual(self, faces: FaceInput) -> ChannelOutput | None:
        """ResNet18 ⊕ AUs of the frames with a face → the visual regressor.

        ``None`` if the model has no visual channel.
        """
        extractor = self.extractors.by_channel.get("visual")
        if extractor is None:
            return None
        features, times = extractor.from_faces(faces.crops, faces.action_units.values[faces.found], faces.times)
        return self._predict("visual", features, times)

    def predict_audio(self, audio: AudioInput) -> ChannelOutput | None:
        """Wav2Vec2 features → the audio regressor (``None`` if the model has no audio channel)."""
        extractor = self.extractors.by_channel.get("audio")
        if extractor is None:
            return None
        return self._predict("audio", *extractor.from_waveform(audio.waveform))

    def transcribe(self, waveform: np.ndarray) -> Transcript | None:
        """The transcript by the ASR the checkpoint's text features were made with (``None`` without text)."""
        extractor = self.extractors.by_channel.get("text")
        return extractor.transcribe(waveform) if extractor is not None else None

    def predict_text(self, text: TextInput) -> ChannelOutput | None:
        """Word-window embeddings of the transcript → the text regressor (``None`` without a text channel)."""
        extractor = self.extractors.by_channel.get("text")
        if extractor is None:
            return None
        return self._predict("text", *extractor.from_transcript(text.transcript))

    def _predict(self, channel: str, features: np.ndarray, times: np.ndarray) -> ChannelOutput | None:
        if len(features) == 0:
            return None
        clip, timeline = self.model.predict_clip(channel, features, times)
        return ChannelOutput(clip=clip, timeline=timeline)


def search_dirs(name: str) -> tuple[Path, ...]:
    """Where to look for backbones by name besides their recorded path: the checkpoint's ``backbones/``."""
    folder = Path(name).expanduser() / BACKBONES_FOLDER
    return (folder,) if folder.is_dir() else ()


def model_info(name: str, model: EMIModel) -> ModelInfo:
    """Provenance of a served checkpoint, from its config (``info`` written by ``emi train``)."""
    info = model.info
    validation = (info.get("metrics") or {}).get("validation") or {}
    row = "fused" if "fused" in validation else next(iter(model.channels))
    mean = (validation.get(row) or {}).get("mean")
    local = Path(name).expanduser().is_dir()
    backbones = "; ".join(
        f"{channel}: {spec.config.get('backbone')}"
        + (f" layer {spec.config['layer']}" if "layer" in spec.config else "")
        + (f" (transcripts by {spec.config['asr']})" if "asr" in spec.config else "")
        for channel, spec in model.features.items()
    )
    untrained = model.random_weights
    return ModelInfo(
        id=name,
        name=info.get("name") or Path(name).name,
        version=sha256_module(model)[:12],
        kind=UNTRAINED if untrained else TRAINED,
        weights_licence=info.get("license_name")
        or info.get("license")
        or "not stated: the terms of its training data apply",
        source=str(Path(name).expanduser().resolve()) if local else f"hf-hub:{name}",
        validation_mean_pearson=None if mean is None else float(mean),
        description=(
            f"{PAPER}: TCN + Transformer per channel ({', '.join(model.channels)}), late fusion. "
            f"Backbones: {backbones}."
            + (" Backbone weights are RANDOM: the outputs are not predictions." if untrained else "")
        ),
        channels=ordered(model.channels),
    )
