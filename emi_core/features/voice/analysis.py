"""One vectorised pass over the audio: frame-level prosodic and spectral tracks (:class:`VoiceFrames`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, sosfilt

from emi_core.features.voice.activity import active_frames, heard_frames, speech_frames, voiced_frames
from emi_core.features.voice.framing import HOP_S, energy_db, frame_audio
from emi_core.features.voice.laughter import laughter
from emi_core.features.voice.pitch import yin
from emi_core.features.voice.runs import close_gaps, drop_short_runs, masked_median_filter, runs
from emi_core.features.voice.spectral import spectral_features
from emi_core.features.voice.vad import speech_probability

HIGHPASS_HZ = 50.0  # removes DC drift and rumble (the GRID clips have a lot) before any analysis
PITCH_MEDIAN_FRAMES = 2  # pitch is median-smoothed over ±2 voiced frames (isolated glitches)
OCTAVE_CONTEXT_FRAMES = 15  # octave jumps are judged against the median voiced pitch over ±150 ms
OCTAVE_JUMP_ST = 9.0  # a frame this far (or further) from that median is moved by whole octaves towards it
WEAK_PERIODICITY = 0.75  # weakly periodic frames are also checked against the clip's median voiced pitch
ONSET_MAX_GAP_S = 0.02  # voiced runs separated by at most this are one run
ONSET_MIN_RUN_S = 0.03  # a voiced onset starts a voiced speech run of at least this length
PITCH_REFERENCE_HZ = 100.0
MIN_SAMPLE_RATE = 8000


@dataclass(frozen=True)
class VoiceFrames:
    """Frame-level voice tracks, one value per 10 ms hop (frames of 40 ms centred on ``times``, in s).

    Arrays have shape (F,), F = 1 + samples // 160 at 16 kHz (0 for empty audio):

    - ``energy_db``: RMS level in dBFS (-100 floor); ``pitch_hz``: YIN f0, NaN on unvoiced frames;
      ``periodicity``: 1 - YIN aperiodicity (0–1);
    - ``active`` / ``voiced`` / ``speech``: the decisions of :mod:`emi_core.features.voice.activity`;
    - ``centroid_hz``, ``tilt_db`` (NaN on digital silence), ``flux``, ``tonality``: see
      :mod:`emi_core.features.voice.spectral`;
    - ``onset``: first frame of each voiced speech run; ``laughter_peak``: the energy peaks of
      laughter-like burst trains; ``laughter`` (0–1): a train's score on the frames it spans (see
      :mod:`emi_core.features.voice.laughter`).
    """

    times: np.ndarray
    energy_db: np.ndarray
    pitch_hz: np.ndarray
    periodicity: np.ndarray
    voiced: np.ndarray
    active: np.ndarray
    speech: np.ndarray
    centroid_hz: np.ndarray
    tilt_db: np.ndarray
    flux: np.ndarray
    tonality: np.ndarray
    onset: np.ndarray
    laughter_peak: np.ndarray
    laughter: np.ndarray
    duration_s: float
    hop_s: float = HOP_S

    def __len__(self) -> int:
        return len(self.times)


def semitones(pitch_hz: np.ndarray) -> np.ndarray:
    """Pitch in semitones re 100 Hz (NaN stays NaN): 12·log2(f / 100)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return 12.0 * np.log2(pitch_hz / PITCH_REFERENCE_HZ)


def analyse_voice(audio: np.ndarray, sample_rate: int = 16000) -> VoiceFrames:
    """Frame-level analysis of 1-D mono ``audio`` (float in [-1, 1]); empty audio gives zero frames.

    Raises ``ValueError`` for a multi-channel or non-finite signal, or a sample rate under 8 kHz.
    """
    samples = np.asarray(audio, dtype=np.float32)
    if samples.ndim != 1:
        raise ValueError(f"voice analysis needs mono 1-D audio, got shape {samples.shape}")
    if sample_rate < MIN_SAMPLE_RATE:
        raise ValueError(f"voice analysis needs at least {MIN_SAMPLE_RATE} Hz audio, got {sample_rate} Hz")
    if not np.isfinite(samples).all():
        raise ValueError("audio contains NaN or infinite samples")
    if samples.size:
        samples = sosfilt(butter(4, HIGHPASS_HZ, "highpass", fs=sample_rate, output="sos"), samples)
    frames = frame_audio(samples, sample_rate)
    energy = energy_db(frames)
    f0, periodicity = yin(frames, sample_rate)
    spectral = spectral_features(frames, sample_rate)
    active = active_frames(energy)
    voiced = voiced_frames(active, periodicity)
    pitch = _smooth_pitch(f0, voiced, periodicity)
    tones = semitones(pitch)
    vad = speech_probability(samples, sample_rate, len(frames))
    speech = speech_frames(active, voiced, energy, tones, spectral.tonality, vad)
    heard = heard_frames(vad)
    laughter_peak, laughter_score = laughter(energy, tones, voiced, active, speech, spectral.tonality, heard)
    return VoiceFrames(
        times=np.arange(len(frames)) * HOP_S,
        energy_db=energy,
        pitch_hz=pitch,
        periodicity=periodicity,
        voiced=voiced,
        active=active,
        speech=speech,
        centroid_hz=spectral.centroid_hz,
        tilt_db=spectral.tilt_db,
        flux=spectral.flux,
        tonality=spectral.tonality,
        onset=_voiced_onsets(voiced & speech),
        laughter_peak=laughter_peak,
        laughter=laughter_score,
        duration_s=samples.size / sample_rate,
    )


def _smooth_pitch(f0: np.ndarray, voiced: np.ndarray, periodicity: np.ndarray) -> np.ndarray:
    """YIN's octave errors removed, then median-smoothed (NaN when unvoiced).

    A voiced frame an octave (>= ``OCTAVE_JUMP_ST``) away from the median voiced pitch of the
    surrounding ±150 ms is moved by whole octaves towards it; so is a weakly periodic frame (where YIN
    errs: onsets, offsets, creak) that far from the clip's median voiced pitch — a whole short run at
    the wrong octave has no local evidence against it.
    """
    tones = semitones(f0)
    local = masked_median_filter(tones, voiced, OCTAVE_CONTEXT_FRAMES)
    tones = tones - 12.0 * _octave_shift(tones - local)
    if voiced.any():
        weak = periodicity < WEAK_PERIODICITY
        tones = tones - 12.0 * weak * _octave_shift(tones - np.median(tones[voiced]))
    return PITCH_REFERENCE_HZ * 2.0 ** (masked_median_filter(tones, voiced, PITCH_MEDIAN_FRAMES) / 12.0)


def _octave_shift(offset_st: np.ndarray) -> np.ndarray:
    """Whole octaves to remove from pitch offsets of at least ``OCTAVE_JUMP_ST`` (0 elsewhere, NaN as 0)."""
    offset = np.nan_to_num(offset_st)
    return np.where(np.abs(offset) >= OCTAVE_JUMP_ST, np.round(offset / 12.0), 0.0)


def _voiced_onsets(voiced_speech: np.ndarray) -> np.ndarray:
    """First frames of voiced speech runs (after bridging tiny gaps and dropping blips)."""
    merged = close_gaps(voiced_speech, int(round(ONSET_MAX_GAP_S / HOP_S)))
    merged = drop_short_runs(merged, int(round(ONSET_MIN_RUN_S / HOP_S)))
    onset = np.zeros(len(merged), bool)
    onset[runs(merged)[0]] = True
    return onset
