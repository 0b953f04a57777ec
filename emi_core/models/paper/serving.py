"""Serving a trained paper checkpoint: per clip in the app / ``emi predict``, and per split for a submission.

A checkpoint (``config.json`` + ``model.safetensors``, written by ``emi train``) records the extractor
config of each channel: backbone source, weights sha256, frame rate, layer, AU names... That and the
backbones themselves are all that is needed: :meth:`PaperBackend.from_pretrained` rebuilds the exact
extractors (:meth:`~emi_core.features.extract.Extractors.from_specs`), checking the weights' sha256.
A backbone recorded as a local path that is not there (the checkpoint moved to another machine) is
also looked for by name in the checkpoint's ``backbones/`` folder, or can be given explicitly
(``backbones={"visual": PATH}``).

:func:`predict_split` writes a challenge submission for a list of ids: features come from the cache
when present (same extractor key as in the checkpoint), else they are extracted (into the cache when
one is given, so a rerun reuses them).

A checkpoint whose features came from **random** backbone weights is served as ``kind="untrained"``:
its outputs must never be shown as predictions.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from emi_core.channels import ordered
from emi_core.dataset import VideoFolder, read_ids
from emi_core.device import resolve_device
from emi_core.emotions import FILENAME_COLUMN
from emi_core.features.backbones import sha256_module
from emi_core.features.batch import ExtractionResult, ExtractionRun, extract_videos
from emi_core.features.cache import FeatureCache
from emi_core.features.extract import Extractors
from emi_core.media import MediaLimits
from emi_core.models.backend import AudioInput, ChannelOutput, EMIBackend, FaceInput, TextInput
from emi_core.models.paper.model import EMIModel
from emi_core.result import TRAINED, UNTRAINED, ModelInfo
from emi_core.scoring import write_submission
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


# -- submissions ----------------------------------------------------------------------------------


@dataclass
class SplitPrediction:
    """What :func:`predict_split` wrote: ``out`` when complete, else the partial file and the missing ids."""

    ids: tuple[str, ...]
    values: np.ndarray
    written: Path
    complete: bool
    cached: dict[str, int]
    extraction: ExtractionResult
    untrained: bool
    missing: dict[str, str] = field(default_factory=dict)


def predict_split(
    model_name: str,
    videos: str | Path,
    ids_csv: str | Path,
    out: str | Path,
    *,
    cache: str | Path | None = None,
    workers: int = 1,
    device: str | torch.device = "cpu",
    limits: MediaLimits | None = None,
    backbones: Mapping[str, str] | None = None,
    batch_size: int = 16,
    progress: bool | None = None,
    log: Callable[[str], None] = print,
) -> SplitPrediction:
    """Write the challenge CSV of the ids in ``ids_csv`` (fused intensities) to ``out``.

    Every id needs a prediction: a video that failed, or has neither a face nor audible audio, has
    none, and no value is ever made up for it. Then ``out`` is **not** written; the predicted rows go
    to ``{stem}.incomplete.csv`` and the others, with the reason, to ``{stem}.missing.csv``.
    """
    out = Path(out)
    ids = read_ids(ids_csv)
    folder = VideoFolder(videos)
    model = EMIModel.from_pretrained(model_name, map_location=device)
    with tempfile.TemporaryDirectory(prefix="emi-features-") as scratch:
        features = FeatureCache(cache if cache is not None else scratch)
        stores = {channel: features.store(spec) for channel, spec in model.features.items()}
        cached = {channel: sum(store.has(i) for i in ids) for channel, store in stores.items()}
        log("cached features: " + ", ".join(f"{c} {n} of {len(ids)}" for c, n in cached.items()))
        extraction = extract_videos(
            folder.lookup(ids),
            features,
            model.features,
            ExtractionRun(
                workers=workers,
                device=device,
                limits=limits or MediaLimits(),
                backbones=backbones or {},
                search_dirs=search_dirs(model_name),
                progress=progress,
                log=log,
            ),
        )
        log(extraction.summary())
        values = model.predict_cached(features, ids, batch_size)["fused"]
    failed = {f.id: f.error for f in extraction.failures}
    missing = {
        video_id: failed.get(video_id, "no face and no audible audio: nothing to predict from")
        for video_id, row in zip(ids, values, strict=True)
        if not np.isfinite(row).all()
    }
    keep = [row for row, video_id in enumerate(ids) if video_id not in missing]
    written = out if not missing else out.with_name(f"{out.stem}.incomplete.csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    write_submission(written, [ids[r] for r in keep], np.clip(values[keep], 0.0, 1.0))
    if missing:
        _write_missing(out.with_name(f"{out.stem}.missing.csv"), missing)
    return SplitPrediction(ids, values, written, not missing, cached, extraction, model.random_weights, missing)


def _write_missing(path: Path, missing: Mapping[str, str]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow((FILENAME_COLUMN, "reason"))
        writer.writerows(missing.items())
