"""The EMI pipeline: media → faces → features → models → fusion, for one clip at a time.

>>> pipeline = EMIPipeline.from_pretrained()          # the offline EMI prior (or $EMI_MODEL)
>>> result = pipeline("clip.mp4")                      # an EMIResult
>>> result.fused["Joy"]
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

from emi_core.channels import CHANNELS
from emi_core.emotions import as_mapping
from emi_core.explanation import explain
from emi_core.faces import FaceFrame, FaceTrack, FaceTracker, track_clip
from emi_core.features.au import AU_NAMES, estimate_aus
from emi_core.features.voice import analyse_voice
from emi_core.fusion import fuse, fuse_curves
from emi_core.media import (
    AUDIO_SAMPLE_RATE,
    MediaLimits,
    is_silent,
    open_media,
    read_audio,
)
from emi_core.models.backend import AudioInput, ChannelOutput, EMIBackend, FaceInput, TextInput
from emi_core.result import ActionUnits, EMIResult, Quality
from emi_core.speech import Transcript

DEFAULT_MODEL = "default"
"""Name of the offline EMI prior; also what ``EMI_MODEL`` unset means."""

Progress = Callable[[float, str], None]
"""``progress(fraction_done, stage)``: stages are decode, faces, features, models."""


def load_backend(name_or_path: str | None = None) -> EMIBackend:
    """The model for ``name_or_path``: ``"default"`` (EMI prior), a checkpoint folder or a hub id.

    With no argument, ``$EMI_MODEL`` decides, and then the default.
    """
    name = name_or_path or os.environ.get("EMI_MODEL") or DEFAULT_MODEL
    if name in (DEFAULT_MODEL, "emi-prior"):
        from emi_core.models.prior import EMIPrior

        return EMIPrior()
    from emi_core.models.paper.serving import PaperBackend

    return PaperBackend.from_pretrained(name)


class EMIPipeline:
    """Estimate the six mimicry intensities of a clip with one model.

    Decoding happens once (frames streamed at the model's analysis rate, audio at 16 kHz); faces are
    tracked frame by frame and only the aligned crops are kept, so memory stays flat.
    """

    def __init__(self, backend: EMIBackend, limits: MediaLimits | None = None, fps: float | None = None):
        self.backend = backend
        self.limits = limits or MediaLimits()
        self.notes: list[str] = []
        """Warnings added to every result (settings the model overrides)."""
        if backend.fixed_rate and fps and fps != backend.analysis_fps:
            self.notes.append(
                f"the requested {fps:g} fps analysis rate is not used: this model was trained on features "
                f"at {backend.analysis_fps:g} fps"
            )
            fps = None
        if backend.max_side and self.limits.max_side != backend.max_side:
            self.limits = replace(self.limits, max_side=backend.max_side)
        self.fps = fps or backend.analysis_fps

    @classmethod
    def from_pretrained(
        cls, name_or_path: str | None = None, *, limits: MediaLimits | None = None, fps: float | None = None
    ) -> EMIPipeline:
        """A ready pipeline for ``"default"``, a local checkpoint folder or a Hugging Face hub id."""
        return cls(load_backend(name_or_path), limits=limits, fps=fps)

    @property
    def model(self):
        """Provenance of the loaded model (:class:`~emi_core.result.ModelInfo`)."""
        return self.backend.info

    def __call__(self, path: str | Path, progress: Progress | None = None) -> EMIResult:
        """Analyse one clip; raises :class:`~emi_core.errors.MediaError` for unusable files."""
        report = progress or (lambda fraction, stage: None)
        report(0.0, "decode")
        source = open_media(path, self.limits)
        warnings: list[str] = []
        info = source.info

        waveform = read_audio(source)
        # the transcript (CTranslate2, outside the GIL) is made while the faces are tracked
        speech = ThreadPoolExecutor(max_workers=1, thread_name_prefix="emi-asr")
        text_job = speech.submit(self._text, waveform)
        speech.shutdown(wait=False)

        def faces_done(face: FaceFrame, done: int, expected: int) -> None:
            if done % 10 == 0:
                report(0.05 + 0.55 * min(1.0, done / expected), "faces")

        track = FaceTrack(frames=[], crop_size=self.backend.crop_size, grayscale=self.backend.grayscale)
        if info.has_video:
            with FaceTracker(crop_size=self.backend.crop_size, grayscale=self.backend.grayscale) as tracker:
                track = track_clip(source, self.fps, tracker, faces_done)
        rate = track.fps
        report(0.6, "features")

        visual_out, action_units = self._visual(track, warnings)
        report(0.75, "models")
        audio_out, voice_speech = self._audio(waveform, warnings)
        text_out, transcript = text_job.result()
        report(0.95, "fusion")

        outputs = {"visual": visual_out, "audio": audio_out, "text": text_out}
        weights = self.backend.fusion
        fused = fuse({c: o.clip for c, o in outputs.items() if o is not None}, weights)
        no_input = {
            "visual": "no face" if info.has_video else "no video",
            "audio": "no audible audio" if waveform is not None else "no audio",
            "text": "no speech",
        }
        unused = {"visual": info.has_video, "audio": waveform is not None and not is_silent(waveform)}
        warnings.extend(_fusion_warnings(outputs, self.backend, no_input, unused))
        duration = max(
            len(track.frames) / rate if rate else 0.0,
            len(waveform) / AUDIO_SAMPLE_RATE if waveform is not None else 0.0,
        )
        result = EMIResult(
            source=Path(info.path).name,
            **{c: _mapping(o.clip if o else None) for c, o in outputs.items()},
            **{f"{c}_timeline": o.timeline if o else None for c, o in outputs.items()},
            fused=_mapping(fused),
            fused_timeline=fuse_curves({c: o.timeline for c, o in outputs.items() if o is not None}, weights),
            action_units=action_units,
            quality=Quality(
                duration_s=round(duration, 3),
                has_video=info.has_video,
                has_audio=waveform is not None,
                sampled_fps=rate,
                frames_analysed=len(track.frames),
                face_ratio=round(track.face_ratio, 4) if info.has_video else None,
                max_faces=track.max_faces if info.has_video else None,
                audio_duration_s=round(len(waveform) / AUDIO_SAMPLE_RATE, 3) if waveform is not None else None,
                speech_ratio=voice_speech,
                truncated=source.truncated,
            ),
            model=self.backend.info,
            warnings=[*self.notes, *source.warnings, *warnings],
            explanation=explain({c: _explained(o) for c, o in outputs.items()}, weights),
            transcript=transcript,
        )
        report(1.0, "done")
        return result

    def _visual(self, track: FaceTrack, warnings: list[str]) -> tuple[ChannelOutput | None, ActionUnits | None]:
        if not track.frames:
            return None, None
        found, times = track.found, track.times
        action_units = ActionUnits(AU_NAMES, times, estimate_aus(track.landmarks_array()))
        warnings.extend(track.quality_warnings())
        if not found.any():
            return None, action_units
        if "visual" not in self.backend.info.channels:
            return None, action_units
        faces = FaceInput(crops=track.crops_array(), times=times[found], found=found, action_units=action_units)
        return self.backend.predict_visual(faces), action_units

    def _audio(self, waveform: np.ndarray | None, warnings: list[str]) -> tuple[ChannelOutput | None, float | None]:
        if waveform is None:
            return None, None
        if is_silent(waveform):
            warnings.append("the audio track is silent: the audio channel is skipped")
            return None, 0.0
        voice = analyse_voice(waveform, AUDIO_SAMPLE_RATE)
        speech_ratio = round(float(voice.speech.mean()), 4) if voice.speech.size else 0.0
        if "audio" not in self.backend.info.channels:
            return None, speech_ratio
        if speech_ratio < 0.1:
            warnings.append("no speech detected (silence, music, noise or other sound): the audio channel gives 0")
        return self.backend.predict_audio(AudioInput(waveform, AUDIO_SAMPLE_RATE, voice)), speech_ratio

    def _text(self, waveform: np.ndarray | None) -> tuple[ChannelOutput | None, Transcript | None]:
        """The whole transcript (when the model has a text channel and the clip audible audio) → text channel."""
        if waveform is None or not self.backend.asr or is_silent(waveform):
            return None, None
        transcript = self.backend.transcribe(waveform)
        if transcript is None or transcript.is_empty:
            return None, transcript
        return self.backend.predict_text(TextInput(transcript)), transcript



def _fusion_warnings(
    outputs: dict[str, ChannelOutput | None],
    backend: EMIBackend,
    no_input: dict[str, str],
    has_input: dict[str, bool],
) -> list[str]:
    """What the fused estimate rests on when some channels have no estimate, and why each has none:
    the clip gave it no input (``no_input[channel]``, e.g. "no face"), or the model has no such channel
    although the clip has input for it (``has_input``, e.g. a loud clip and a model without audio)."""
    model_channels = backend.info.channels
    served = [c for c in model_channels if c != "text" or backend.asr]
    present = [c for c in CHANNELS if outputs.get(c) is not None]
    missing = [c for c in served if outputs.get(c) is None]
    lacking = [c for c in CHANNELS if c not in model_channels and has_input.get(c)]
    reasons = [no_input.get(c, f"no {c} input") for c in missing]
    if lacking:
        reasons.append(f"this model has no {' or '.join(lacking)} channel")
    if not present:
        return [f"nothing to estimate: {'; '.join(reasons)}"]
    if reasons:
        only = " and ".join(present)
        return [f"fused = {only} channel{'s' if len(present) > 1 else ''} only ({'; '.join(reasons)})"]
    return []


def _explained(output: ChannelOutput | None):
    return (output.clip, output.timeline, output.contributions) if output is not None else None


def _mapping(values: np.ndarray | None) -> dict[str, float] | None:
    return as_mapping(np.round(np.clip(values, 0, 1), 4)) if values is not None else None
