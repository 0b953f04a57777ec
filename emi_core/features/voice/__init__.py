"""Fast, interpretable voice features for the offline default model (numpy/scipy, and Silero VAD).

``analyse_voice`` turns 16 kHz mono audio into frame-level tracks (energy, YIN pitch, voicing, a speech
decision that rejects silence, music, noise and tones — Silero VAD plus voice-likeness rules —,
spectral centroid / tilt / flux, voiced onsets, laughter-like burst trains); ``summarise`` condenses
any ``[start, end)`` span of them into a :class:`VoiceSummary`; ``windows`` lays out the sliding
windows the pipeline uses.
"""

from emi_core.features.voice.analysis import VoiceFrames, analyse_voice, semitones
from emi_core.features.voice.summary import VoiceSummary, summarise, windows

__all__ = ["VoiceFrames", "VoiceSummary", "analyse_voice", "semitones", "summarise", "windows"]
