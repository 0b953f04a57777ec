"""Feature extraction for the paper's model, per video (whole splits: :mod:`emi_core.features.batch`).

Per video (:meth:`Extractors.extract`) the file is probed once and each stream decoded once: frames
at the extractor's rate go through the face tracker (aligned 112 × 112 RGB crops, MediaPipe mesh),
crops are embedded by ResNet18 in batches as they come (memory stays flat), AUs come from the
meshes; the 16 kHz audio goes through Wav2Vec2. The same code turns the app's faces and audio into
features when a checkpoint is served (:mod:`emi_core.models.paper.serving`), so training and serving
see identical features for identical frames.

* **Visual** (``visual-dual``): :func:`~emi_core.features.visual.dual_features` of the frames with a
  face. A file without a video stream, or without any face, gives an empty sequence.
* **Audio** (``audio-wav2vec2``): :class:`~emi_core.features.audio.Wav2Vec2Features`. No audio track,
  or digital silence (peak at most :data:`~emi_core.media.SILENCE_DBFS`, the threshold below which
  the app skips the audio channel), gives an empty sequence.
* **Text** (``text-transcript``): the whole transcript (:mod:`emi_core.speech`, faster-whisper) →
  sentence embeddings of its word windows (:mod:`emi_core.features.text`). The transcript is stored
  beside the features (``{id}.sidecar.json``). No audio, silence or no recognised word gives an empty
  sequence (and an empty transcript).

Empty sequences are stored (``T = 0``): the video was processed, and a rerun does not redo it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from emi_core.channels import PAPER_CHANNELS, ordered
from emi_core.errors import ConfigError, ModelError
from emi_core.faces import FaceFrame, FaceTracker, track_clip
from emi_core.features.au import AU_NAMES, estimate_aus
from emi_core.features.audio import Wav2Vec2Features, load_wav2vec2
from emi_core.features.backbones import DEFAULT_AUDIO_BACKBONE
from emi_core.features.cache import (
    AUDIO_EXTRACTOR,
    TEXT_EXTRACTOR,
    VISUAL_EXTRACTOR,
    ExtractorSpec,
)
from emi_core.features.text import HOP_S, WINDOW_S, TextEncoder, load_text_encoder
from emi_core.features.visual import DEFAULT_INPUT_SIZE, FaceEmbedder, dual_features, load_face_embedder
from emi_core.media import MediaLimits, MediaSource, is_silent, open_media, read_audio
from emi_core.speech import Transcriber, Transcript, load_transcriber
from emi_core.speech.asr import ASRSettings

CODE_VERSION = 1
"""Version of the feature computation in this module; recorded in every extractor config."""

PAPER_FPS = 30.0
"""The paper resamples every video to 30 frames per second."""

CROP_SIZE = 112
"""Aligned face crop size (pixels), as in the paper."""

FeatureSequence = tuple[np.ndarray, np.ndarray]
"""``(features (T, D) float32, times (T,) float32)``."""


def _empty(dim: int) -> FeatureSequence:
    return np.zeros((0, dim), np.float32), np.zeros(0, np.float32)


class VisualExtractor:
    """Dual-channel visual features (ResNet18 ⊕ AUs) of the frames with a face, at ``fps``."""

    def __init__(self, embedder: FaceEmbedder, fps: float = PAPER_FPS, max_side: int = MediaLimits().max_side):
        self.embedder = embedder
        self.fps = float(fps)
        self.max_side = int(max_side)
        self._tracker: FaceTracker | None = None

    @property
    def dim(self) -> int:
        """Feature size: the embedding's plus one per AU."""
        return self.embedder.dim + len(AU_NAMES)

    @property
    def spec(self) -> ExtractorSpec:
        """What these features are: backbone, weights, frame rate, face crops, AUs, code version."""
        config = {
            **self.embedder.description,
            "fps": self.fps,
            "crop_size": CROP_SIZE,
            "max_side": self.max_side,
            "faces": "mediapipe-face-mesh",
            "au_names": list(AU_NAMES),
            "code_version": CODE_VERSION,
        }
        return ExtractorSpec(VISUAL_EXTRACTOR, config, self.dim)

    def from_faces(self, crops: np.ndarray, action_units: np.ndarray, times: np.ndarray) -> FeatureSequence:
        """Features of tracked faces: ``crops`` ``(F, 112, 112, 3)``, their AUs ``(F, K)`` and times ``(F,)``."""
        return dual_features(self.embedder(crops), action_units, times)

    def from_source(self, source: MediaSource) -> FeatureSequence:
        """Decode the frames once, track the face, embed crops in batches; empty without video or face."""
        if not source.info.has_video:
            return _empty(self.dim)
        embeddings, pending = [], []

        def embed(face: FaceFrame, done: int, expected: int) -> FaceFrame:
            if face.found:
                pending.append(face.crop)
                if len(pending) == self.embedder.batch_size:
                    embeddings.append(self.embedder(np.stack(pending)))
                    pending.clear()
            return replace(face, crop=None)  # crops are embedded as they come: memory stays flat

        track = track_clip(source, self.fps, self._face_tracker(), embed)
        if pending:
            embeddings.append(self.embedder(np.stack(pending)))
        found = track.found
        if not found.any():
            return _empty(self.dim)
        action_units = estimate_aus(track.landmarks_array())[found]
        return dual_features(np.concatenate(embeddings), action_units, track.times[found])

    def close(self) -> None:
        """Release the face tracker."""
        if self._tracker is not None:
            self._tracker.close()
            self._tracker = None

    def _face_tracker(self) -> FaceTracker:
        if self._tracker is None:
            self._tracker = FaceTracker(crop_size=CROP_SIZE, grayscale=False)
        return self._tracker


class AudioExtractor:
    """Wav2Vec2 features of the 16 kHz audio track (empty without audio or for digital silence)."""

    def __init__(self, wav2vec2: Wav2Vec2Features):
        self.wav2vec2 = wav2vec2

    @property
    def spec(self) -> ExtractorSpec:
        """What these features are: backbone, weights, layer, input normalisation, chunking, code version."""
        return ExtractorSpec(
            AUDIO_EXTRACTOR, {**self.wav2vec2.description, "code_version": CODE_VERSION}, self.wav2vec2.dim
        )

    def from_waveform(self, waveform: np.ndarray | None) -> FeatureSequence:
        """Features of a 16 kHz mono waveform (``None``: no audio)."""
        if is_silent(waveform):
            return _empty(self.wav2vec2.dim)
        sequence = self.wav2vec2(waveform)
        return sequence.features, sequence.times

    def from_source(self, source: MediaSource) -> FeatureSequence:
        """Decode the audio once and extract."""
        return self.from_waveform(read_audio(source))

    def close(self) -> None:
        """Nothing to release (kept for symmetry with :class:`VisualExtractor`)."""


class TextExtractor:
    """Text features: the whole transcript of the audio → sentence embeddings of its word windows."""

    def __init__(self, transcriber: Transcriber, encoder: TextEncoder):
        self.transcriber = transcriber
        self.encoder = encoder

    @property
    def spec(self) -> ExtractorSpec:
        """What these features are: the ASR and its settings, the text encoder, the word windows."""
        config = {
            **self.transcriber.spec,
            "backbone": self.encoder.source,
            "window_s": WINDOW_S,
            "hop_s": HOP_S,
            "code_version": CODE_VERSION,
        }
        return ExtractorSpec(TEXT_EXTRACTOR, config, self.encoder.dim)

    def transcribe(self, waveform: np.ndarray | None) -> Transcript:
        """The whole transcript of a 16 kHz waveform (empty without audio or for digital silence)."""
        if waveform is None or is_silent(waveform):
            waveform = np.zeros(0, np.float32)
        return self.transcriber(waveform)

    def from_transcript(self, transcript: Transcript) -> FeatureSequence:
        """The word-window embeddings of a transcript (empty without words)."""
        features, times = self.encoder.timeline(transcript)
        return features, times.astype(np.float32)

    def from_source(self, source: MediaSource) -> tuple[np.ndarray, np.ndarray, dict]:
        """Decode the audio once, transcribe, embed: ``(features, times, transcript as JSON)``."""
        transcript = self.transcribe(read_audio(source))
        return (*self.from_transcript(transcript), transcript.to_dict())

    def close(self) -> None:
        """Nothing to release (the models are shared, loaded once per process)."""


ChannelExtractor = VisualExtractor | AudioExtractor | TextExtractor


@dataclass
class Extractors:
    """The extractors of one run, by channel (``visual`` and/or ``audio``)."""

    by_channel: dict[str, ChannelExtractor] = field(default_factory=dict)

    @property
    def specs(self) -> dict[str, ExtractorSpec]:
        """``{channel: ExtractorSpec}``."""
        return {channel: extractor.spec for channel, extractor in self.by_channel.items()}

    def extract(
        self, path: str | Path, limits: MediaLimits | None = None, channels: Iterable[str] | None = None
    ) -> Iterator[tuple[str, FeatureSequence]]:
        """Yield ``(channel, (features, times))`` for one file: probed once, each stream decoded once.

        Frames are downscaled to the visual extractor's recorded ``max_side``, whatever ``limits`` say,
        so that features always match their config.
        """
        limits = limits or MediaLimits()
        visual = self.by_channel.get("visual")
        if visual is not None and limits.max_side != visual.max_side:
            limits = replace(limits, max_side=visual.max_side)
        source = open_media(path, limits)
        for channel in channels or tuple(self.by_channel):
            yield channel, self.by_channel[channel].from_source(source)

    def close(self) -> None:
        """Release every extractor's resources."""
        for extractor in self.by_channel.values():
            extractor.close()

    @classmethod
    def from_options(
        cls,
        channels: Sequence[str] = PAPER_CHANNELS,
        *,
        visual_backbone: str | None = None,
        audio_backbone: str | None = DEFAULT_AUDIO_BACKBONE,
        audio_layer: int | None = None,
        asr: str | None = None,
        text_backbone: str | None = None,
        fps: float = PAPER_FPS,
        input_size: int = DEFAULT_INPUT_SIZE,
        max_side: int = MediaLimits().max_side,
        device: str | torch.device = "cpu",
    ) -> Extractors:
        """Extractors for new features (``emi extract``); :class:`ModelError` when a backbone is unusable."""
        try:
            channels = ordered(channels)
        except ValueError as err:
            raise ConfigError(str(err)) from None
        if fps <= 0:
            raise ConfigError(f"the frame rate must be positive, got {fps:g} fps")
        by_channel: dict[str, ChannelExtractor] = {}
        if "visual" in channels:
            embedder = load_face_embedder(visual_backbone, device, input_size=input_size)
            by_channel["visual"] = VisualExtractor(embedder, fps, max_side)
        if "audio" in channels:
            by_channel["audio"] = AudioExtractor(load_wav2vec2(audio_backbone, device, layer=audio_layer))
        if "text" in channels:
            by_channel["text"] = TextExtractor(
                load_transcriber(asr, device=_ct2_device(device)), load_text_encoder(text_backbone, str(device))
            )
        return cls(by_channel)

    @classmethod
    def from_specs(
        cls,
        specs: Mapping[str, ExtractorSpec],
        device: str | torch.device = "cpu",
        *,
        backbones: Mapping[str, str] | None = None,
        search_dirs: Sequence[Path] = (),
    ) -> Extractors:
        """The extractors that made features of ``specs`` (from a cache or a checkpoint config).

        Each backbone is loaded from its recorded source, or from ``backbones[channel]`` (another copy
        of the same weights), or found by name in ``search_dirs``; its weights must have the recorded
        sha256, and the rebuilt extractor must describe itself exactly as recorded.
        """
        backbones = dict(backbones or {})
        by_channel: dict[str, ChannelExtractor] = {}
        for channel, spec in specs.items():
            try:
                by_channel[channel] = _from_spec(channel, spec, device, backbones.get(channel), tuple(search_dirs))
            except KeyError as err:
                raise ModelError(
                    f"{channel} features {spec.key} were not made by emi extract (their config lacks {err}); "
                    "they cannot be recomputed"
                ) from None
            except ModelError as err:
                raise ModelError(
                    f"the {channel} backbone that made features {spec.key} is needed: {err} "
                    "(or put a copy of the same weights in the checkpoint's backbones/ folder)"
                ) from None
            rebuilt = by_channel[channel].spec
            if rebuilt != spec:
                differs = sorted(
                    k for k in spec.config.keys() | rebuilt.config.keys() if spec.config.get(k) != rebuilt.config.get(k)
                )
                raise ModelError(
                    f"{channel} features {spec.key} cannot be recomputed by this version of emi "
                    f"(their config differs in {', '.join(differs) or 'dim'})"
                )
        return cls(by_channel)


def _from_spec(
    channel: str, spec: ExtractorSpec, device: str | torch.device, backbone: str | None, search_dirs: tuple[Path, ...]
) -> ChannelExtractor:
    config = spec.config
    if channel == "text":
        settings = ASRSettings(**{k: config[k] for k in ASRSettings.__dataclass_fields__})
        transcriber = load_transcriber(
            config["asr"], device=_ct2_device(device), compute_type=config["compute_type"], settings=settings
        )
        return TextExtractor(transcriber, load_text_encoder(backbone or config["backbone"], str(device)))
    if channel == "visual":
        embedder = load_face_embedder(
            backbone or config["backbone"],
            device,
            input_size=config["input_size"],
            expected_sha256=config["weights_sha256"],
            search_dirs=search_dirs,
        )
        embedder.source = config["backbone"]  # the same weights (sha256 checked) under the recorded name
        return VisualExtractor(embedder, config["fps"], config["max_side"])
    wav2vec2 = load_wav2vec2(
        backbone or config["backbone"],
        device,
        layer=config["layer"],
        expected_sha256=config["weights_sha256"],
        architecture=config.get("architecture"),
        search_dirs=search_dirs,
        chunk_s=config["chunk_s"],
        overlap_s=config["overlap_s"],
    )
    wav2vec2.source = config["backbone"]
    return AudioExtractor(wav2vec2)


def _ct2_device(device: str | torch.device) -> str:
    """CTranslate2's device name for a torch device (``cuda:1`` → ``cuda``)."""
    return torch.device(device).type
