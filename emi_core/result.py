"""The typed result of one analysed clip, and its JSON / CSV forms."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from emi_core.channels import CHANNELS, ROWS
from emi_core.emotions import EMOTIONS

if TYPE_CHECKING:
    from emi_core.explanation import Explanation
    from emi_core.speech import Transcript


HEURISTIC, TRAINED, UNTRAINED = "heuristic", "trained", "untrained"
"""The kinds of model: the offline EMI prior, a checkpoint trained on data, random weights (tests)."""


@dataclass(frozen=True)
class ModelInfo:
    """Provenance of the model that produced a result.

    ``kind`` is :data:`HEURISTIC` (the offline EMI prior), :data:`TRAINED` (a checkpoint trained on
    data) or :data:`UNTRAINED` (random weights, e.g. in tests: never to be shown as a prediction;
    a checkpoint is untrained when :attr:`ExtractorSpec.random_weights` holds for one of its channels).
    """

    id: str
    name: str
    version: str
    kind: str
    weights_licence: str
    source: str
    validation_mean_pearson: float | None = None
    description: str = ""
    channels: tuple[str, ...] = CHANNELS
    """The input channels this model has (a checkpoint may have been trained on some only)."""

    @property
    def is_prediction(self) -> bool:
        """Whether the outputs may be presented as estimates (not for random weights)."""
        return self.kind != UNTRAINED


@dataclass
class Curve:
    """Six intensities over time: ``values`` is ``(T, 6)`` in challenge order at ``times`` (seconds)."""

    times: np.ndarray
    values: np.ndarray

    def at(self, times: np.ndarray | float) -> np.ndarray:
        """The intensities at ``times``: ``(len(times), 6)`` (``(6,)`` for one time), linearly
        interpolated and held constant beyond the curve's ends."""
        grid = np.atleast_1d(np.asarray(times, dtype=np.float64))
        values = np.stack([np.interp(grid, self.times, self.values[:, i]) for i in range(self.values.shape[1])], axis=1)
        return values[0] if np.ndim(times) == 0 else values

    def to_dict(self) -> dict:
        """``{"time_s": [...], "Admiration": [...], ...}`` rounded for JSON."""
        out = {"time_s": _round(self.times)}
        for i, emotion in enumerate(EMOTIONS):
            out[emotion] = _round(self.values[:, i])
        return out


@dataclass
class ActionUnits:
    """Per-frame facial Action Unit intensities in [0, 1] (``NaN`` where no face was found)."""

    names: tuple[str, ...]
    times: np.ndarray
    values: np.ndarray

    def clip_means(self) -> dict[str, float | None]:
        """Mean intensity of each AU over the frames with a face."""
        means = {}
        for i, name in enumerate(self.names):
            column = self.values[:, i]
            column = column[np.isfinite(column)]
            means[name] = round(float(column.mean()), 4) if column.size else None
        return means

    def to_dict(self) -> dict:
        """JSON-ready dict: names, times, per-frame values (``null`` for frames without a face)."""
        return {
            "names": list(self.names),
            "time_s": _round(self.times),
            "values": [[None if not np.isfinite(v) else round(float(v), 4) for v in row] for row in self.values],
            "clip_mean": self.clip_means(),
        }


@dataclass
class Quality:
    """Facts about the input that tell how much to trust each channel."""

    duration_s: float
    has_video: bool
    has_audio: bool
    sampled_fps: float | None
    frames_analysed: int
    face_ratio: float | None
    max_faces: int | None
    audio_duration_s: float | None
    speech_ratio: float | None
    truncated: bool


@dataclass
class EMIResult:
    """Estimated mimicry intensities of one clip.

    Each channel of :data:`~emi_core.channels.CHANNELS` (``visual``, ``audio``, ``text``) and ``fused``
    map the six emotions to [0, 1]; a channel without input (no face / no audio / no recognised words,
    or a model without that channel) is ``None``. The timelines (``<channel>_timeline``) give the same
    per sampled frame (visual), per audio window (audio), per word window (text) and on a common grid
    (fused). :meth:`intensities` and :meth:`timeline` read them by name. ``explanation`` says why each
    fused value is what it is (:mod:`emi_core.explanation`); ``transcript`` is what was said, with word
    times (``None`` when the model has no text channel or the clip no audible audio).
    """

    source: str
    visual: dict[str, float] | None
    audio: dict[str, float] | None
    fused: dict[str, float] | None
    visual_timeline: Curve | None
    audio_timeline: Curve | None
    fused_timeline: Curve | None
    action_units: ActionUnits | None
    quality: Quality
    model: ModelInfo
    warnings: list[str] = field(default_factory=list)
    explanation: Explanation | None = None
    text: dict[str, float] | None = None
    text_timeline: Curve | None = None
    transcript: Transcript | None = None

    def intensities(self, row: str) -> dict[str, float] | None:
        """The clip intensities of a channel or ``"fused"`` (``None`` without input)."""
        if row not in ROWS:
            raise KeyError(f"no channel {row!r}; expected one of {ROWS}")
        return getattr(self, row)

    def timeline(self, row: str) -> Curve | None:
        """The timeline of a channel or ``"fused"`` (``None`` without input)."""
        if row not in ROWS:
            raise KeyError(f"no channel {row!r}; expected one of {ROWS}")
        return getattr(self, f"{row}_timeline")

    def to_dict(self, *, timelines: bool = True) -> dict:
        """A JSON-ready dict with every field (timelines and per-frame AUs optional)."""
        out = {
            "source": self.source,
            "model": asdict(self.model) | {"channels": list(self.model.channels)},
            **{row: self.intensities(row) for row in ROWS},
            "quality": asdict(self.quality),
            "warnings": list(self.warnings),
            "explanation": self.explanation.to_dict() if self.explanation is not None else None,
            "transcript": self.transcript.to_dict() if self.transcript is not None else None,
        }
        if timelines:
            out["timeline"] = {row: _curve_dict(self.timeline(row)) for row in ROWS}
            out["action_units"] = self.action_units.to_dict() if self.action_units is not None else None
        return out

    def to_json(self, **kwargs) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(**kwargs), indent=2, allow_nan=False)

    def timeline_rows(self) -> list[dict]:
        """Long-format timeline rows: ``channel, time_s`` and the six intensities."""
        rows = []
        for channel in ROWS:
            curve = self.timeline(channel)
            if curve is None:
                continue
            for t, values in zip(curve.times, curve.values, strict=True):
                row = {"channel": channel, "time_s": round(float(t), 3)}
                row.update({emotion: round(float(v), 4) for emotion, v in zip(EMOTIONS, values, strict=True)})
                rows.append(row)
        return rows


def _curve_dict(curve: Curve | None) -> dict | None:
    return curve.to_dict() if curve is not None else None


def _round(values: np.ndarray, digits: int = 4) -> list[float]:
    return [round(float(v), digits) for v in np.asarray(values)]
