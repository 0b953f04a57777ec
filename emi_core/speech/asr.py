"""Speech → transcript with faster-whisper (CTranslate2 Whisper; int8 on the CPU).

>>> transcriber = load_transcriber()                 # the shipped tiny.en, offline
>>> transcript = transcriber(waveform)               # 16 kHz mono float32
>>> transcript.text, transcript.words[0].start

Any Whisper model works by name (``large-v3``, ``distil-large-v3``: faster-whisper fetches the
CTranslate2 conversion from the Hugging Face Hub), by Hub id or by local folder. Every segment is
kept (the whole transcript, not its first segment), with per-word times and probabilities.
Non-speech does not become words: Silero VAD (``vad_filter``, shipped inside faster-whisper) drops
stretches without speech before decoding, and Whisper's own rule drops a segment whose no-speech
probability is above ``no_speech_threshold`` while its mean log-probability is below
``log_prob_threshold``.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from emi_core.errors import ConfigError, ModelError
from emi_core.speech.transcript import Segment, Transcript, Word
from emi_core.speech.weights import DEFAULT_WHISPER, DEFAULT_WHISPER_SOURCE, default_whisper_dir

SAMPLE_RATE = 16000
"""The sample rate Whisper expects (the pipeline's audio rate too)."""

DEFAULT_ASR = "default"
"""``--asr`` value of the shipped offline model (``tiny.en`` means the same)."""


@dataclass(frozen=True)
class ASRSettings:
    """Decoding settings; all are recorded with every transcript (and in extractor configs).

    ``beam_size`` 1 is greedy decoding (the fastest on a CPU); ``language`` ``None`` detects it
    (English-only models always use ``en``).
    """

    beam_size: int = 1
    vad_filter: bool = True
    no_speech_threshold: float = 0.6
    log_prob_threshold: float = -1.0
    language: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.beam_size <= 16:
            raise ConfigError(f"ASR beam size must be 1 to 16, got {self.beam_size}")
        if not 0.0 <= self.no_speech_threshold <= 1.0:
            raise ConfigError(f"no-speech threshold must be in [0, 1], got {self.no_speech_threshold}")


class Transcriber:
    """A loaded Whisper model and its settings; call it on a 16 kHz waveform to get a :class:`Transcript`."""

    def __init__(self, model: Any, source: str, compute_type: str, settings: ASRSettings = ASRSettings()):
        self.model = model
        self.source = source
        self.compute_type = compute_type
        self.settings = settings

    @property
    def spec(self) -> dict[str, Any]:
        """What defines this transcriber's output: model source, compute type and decoding settings."""
        return {"asr": self.source, "compute_type": self.compute_type, **asdict(self.settings)}

    def __call__(self, waveform: np.ndarray, sample_rate: int = SAMPLE_RATE) -> Transcript:
        """The whole transcript of ``waveform`` (mono float32 at 16 kHz)."""
        if sample_rate != SAMPLE_RATE:
            raise ConfigError(f"the ASR needs {SAMPLE_RATE} Hz audio, got {sample_rate} Hz")
        audio = np.ascontiguousarray(waveform, dtype=np.float32)
        duration = len(audio) / SAMPLE_RATE
        if len(audio) == 0:
            return self._transcript((), self.settings.language or "en", 0.0, duration)
        s = self.settings
        segments, info = self.model.transcribe(
            audio,
            language=s.language,
            beam_size=s.beam_size,
            word_timestamps=True,
            vad_filter=s.vad_filter,
            no_speech_threshold=s.no_speech_threshold,
            log_prob_threshold=s.log_prob_threshold,
            condition_on_previous_text=False,
        )
        kept = tuple(_segment(segment, duration) for segment in segments)  # the generator decodes lazily: all of it
        kept = tuple(segment for segment in kept if segment.words or segment.text)
        return self._transcript(kept, info.language, float(info.language_probability), duration)

    def _transcript(self, segments: tuple[Segment, ...], language: str, probability: float, duration: float):
        return Transcript(segments, language, probability, duration, self.source, self.spec)


def _segment(segment: Any, duration: float) -> Segment:
    words = tuple(
        Word(w.word.strip(), _clamp(w.start, duration), _clamp(w.end, duration), float(w.probability))
        for w in (segment.words or ())
        if w.word.strip()
    )
    return Segment(
        text=segment.text.strip(),
        start=_clamp(segment.start, duration),
        end=_clamp(segment.end, duration),
        no_speech_prob=float(segment.no_speech_prob),
        avg_logprob=float(segment.avg_logprob),
        words=words,
    )


def _clamp(t: float, duration: float) -> float:
    return float(min(max(t, 0.0), duration))


def resolve_whisper(name_or_path: str | None) -> tuple[str, str]:
    """``(what to load, how to record it)`` for ``--asr``: the shipped default, a folder, or a model name."""
    name = name_or_path or DEFAULT_ASR
    if name in (DEFAULT_ASR, DEFAULT_WHISPER, DEFAULT_WHISPER_SOURCE):
        return str(default_whisper_dir()), DEFAULT_WHISPER_SOURCE
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "model.bin").is_file():
            raise ModelError(f"ASR model {name}: not a CTranslate2 Whisper folder (no model.bin)")
        return str(path.resolve()), str(path.resolve())
    if name.startswith((".", "/", "~")):
        raise ModelError(f"ASR model {name}: no such folder")
    return name, name


@lru_cache(maxsize=2)
def load_transcriber(
    name_or_path: str | None = None,
    *,
    device: str = "cpu",
    compute_type: str | None = None,
    cpu_threads: int = 0,
    settings: ASRSettings = ASRSettings(),
) -> Transcriber:
    """A :class:`Transcriber` (loaded once per argument set): the shipped tiny.en by default.

    ``compute_type`` defaults to ``int8`` on the CPU and ``float16`` on CUDA. A name that is not a
    folder is handed to faster-whisper (a size like ``large-v3`` or a Hub id); offline
    (``HF_HUB_OFFLINE=1``) only the local Hub cache is used. :class:`ModelError` if it cannot load.
    """
    from faster_whisper import WhisperModel

    target, source = resolve_whisper(name_or_path)
    compute = compute_type or ("float16" if device == "cuda" else "int8")
    offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
    try:
        model = WhisperModel(
            target, device=device, compute_type=compute, cpu_threads=cpu_threads, local_files_only=offline
        )
    except Exception as err:  # noqa: BLE001 - hub, file and CTranslate2 failures all mean "cannot load"
        reason = " ".join(str(err).split())[:160] or type(err).__name__
        raise ModelError(f"ASR model {name_or_path or DEFAULT_ASR}: cannot load it ({reason})") from None
    return Transcriber(model, source, compute, settings)
