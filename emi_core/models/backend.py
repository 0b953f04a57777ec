"""What a model must provide to be served by :class:`emi_core.pipeline.EMIPipeline`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from emi_core.explanation import CueContributions
from emi_core.features.voice import VoiceFrames
from emi_core.fusion import FusionWeights
from emi_core.result import ActionUnits, Curve, ModelInfo
from emi_core.speech import Transcript, load_transcriber


@dataclass(frozen=True)
class FaceInput:
    """The main subject's face over the sampled frames, as the pipeline hands it to a model.

    ``found`` marks the sampled frames with a face; ``crops`` holds their aligned crops (in the size
    and colour the model asked for) and ``times`` their timestamps; ``action_units`` covers every
    sampled frame (``action_units.values[found]`` lines up with ``crops``).
    """

    crops: np.ndarray
    times: np.ndarray
    found: np.ndarray
    action_units: ActionUnits


@dataclass(frozen=True)
class AudioInput:
    """16 kHz mono audio and its voice analysis (computed once by the pipeline)."""

    waveform: np.ndarray
    sample_rate: int
    voice: VoiceFrames


@dataclass(frozen=True)
class TextInput:
    """What was said: the clip's whole transcript (with at least one recognised word)."""

    transcript: Transcript


@dataclass(frozen=True)
class ChannelOutput:
    """One channel's estimate: clip-level ``(6,)`` intensities and their timeline.

    An additive model (the EMI prior) also gives the ``contributions`` of its cues, which sum to both.
    """

    clip: np.ndarray
    timeline: Curve
    contributions: CueContributions | None = None


class EMIBackend(ABC):
    """A model that turns faces and/or audio into the six intensities.

    Subclasses set ``info`` (provenance), ``analysis_fps`` (frames per second to sample),
    ``crop_size`` / ``grayscale`` (the aligned face crops they need) and ``fusion``. A model trained
    on features made at one frame rate and frame size sets ``fixed_rate`` and ``max_side``: the
    pipeline then samples exactly as in training, whatever it is asked.
    """

    info: ModelInfo
    analysis_fps: float = 10.0
    fixed_rate: bool = False
    max_side: int | None = None
    crop_size: int = 112
    grayscale: bool = False
    fusion: FusionWeights = FusionWeights()
    asr: str | None = None
    """The ASR (``--asr`` name or folder) whose transcript feeds :meth:`predict_text`; ``None``: no text channel."""

    @abstractmethod
    def predict_visual(self, faces: FaceInput) -> ChannelOutput | None:
        """Visual-channel intensities from the tracked face (called only when a face was found).

        ``None`` when the model has no visual channel or nothing usable was left.
        """

    @abstractmethod
    def predict_audio(self, audio: AudioInput) -> ChannelOutput | None:
        """Audio-channel intensities (called only when the clip has audible audio); ``None`` as above."""

    def transcribe(self, waveform: np.ndarray) -> Transcript | None:
        """The whole transcript of a 16 kHz waveform by this model's ``asr`` (``None``: no text channel)."""
        return load_transcriber(self.asr)(waveform) if self.asr else None

    def predict_text(self, text: TextInput) -> ChannelOutput | None:
        """Text-channel intensities from the transcript (called only when ``asr`` is set and words were
        recognised). A model without a text channel keeps this default: ``None``."""
        return None
