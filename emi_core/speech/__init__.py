"""Speech → transcript: faster-whisper ASR (:mod:`~emi_core.speech.asr`), the transcript's types
(:mod:`~emi_core.speech.transcript`) and the shipped offline weights (:mod:`~emi_core.speech.weights`)."""

from emi_core.speech.asr import DEFAULT_ASR, ASRSettings, Transcriber, load_transcriber
from emi_core.speech.transcript import Segment, Transcript, Word
from emi_core.speech.weights import default_whisper_dir

__all__ = [
    "DEFAULT_ASR",
    "ASRSettings",
    "Segment",
    "Transcriber",
    "Transcript",
    "Word",
    "default_whisper_dir",
    "load_transcriber",
]
