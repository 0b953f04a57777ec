"""Frame-level activity, voicing and speech decisions.

The decision, in order (all thresholds are module constants):

1. **Active** (something audible above the background): the frame energy exceeds the clip's noise
   floor by ``ACTIVE_MARGIN_DB``, and the absolute floor ``MIN_ACTIVE_DB``. The noise floor is the
   10th percentile of the frames that are not digital silence, capped at ``MAX_NOISE_FLOOR_DB`` so that
   a clip with no pause at all (a short excerpt of speech) does not take its own voice for background.
   Digital silence is never active; a quiet steady sound filling the clip (a tone under the cap) is its
   own noise floor, so it is not active either; a loud one is rejected by step 3.
2. **Voiced**: active and periodic (YIN periodicity >= ``VOICED_PERIODICITY``).
3. **Voice-like**: active, and its ±``CONTEXT_S`` neighbourhood looks like a voice rather than a machine:
   - some voicing: at least ``MIN_CONTEXT_VOICING`` of the active neighbours are voiced (rejects noise
     bursts, clicks, fans);
   - not a pure tone: mean tonality (share of power at the strongest spectral peak) of the active
     neighbours below ``MAX_CONTEXT_TONALITY`` — a voice spreads its power over several harmonics;
   - modulated: within ±``PEAK_CONTEXT_S`` the energy envelope has at least two peaks (syllables,
     bursts) standing ``SYLLABLE_PROMINENCE_DB`` above their surroundings, or the pitch of the voiced
     neighbours varies (std >= ``MIN_PITCH_MODULATION_ST``). A steady buzz has neither: switching it
     on or off is a single step, not a modulation;
   - not machine-steady: a voice always drifts in pitch, so a context of at least ``MIN_PITCH_FRAMES``
     voiced frames whose pitch std is under ``MACHINE_PITCH_STD_ST`` (about 0.1 % in frequency) is a device
     (an alarm, a ringtone, a synthesiser note), however it is switched on and off.
4. **Heard as a voice by a trained model**: instruments are periodic and modulated too (a melody,
   chords, a plucked arpeggio, drums pass every test of step 3), so a frame is speech only where
   Silero VAD (:mod:`emi_core.features.voice.vad`) hears speech around it: its mean VAD probability
   over ±``VAD_CONTEXT_S`` (beyond the clip's ends: 0) must be at least ``VAD_CONFIRM`` (shouted,
   crying or screamed speech scores low frame by frame but rarely that low around it; music, noise
   and tones stay far under it), and
   the frame must be voice-like (step 3) or have a VAD probability of at least ``VAD_SPEECH`` itself
   (unvoiced consonants, whispers).
   Active frames within ``EXTEND_S`` of speech join it (the first and last syllables of an utterance
   only have half a context); pauses of up to ``MAX_PAUSE_S`` inside speech count as speech; speech
   runs shorter than ``MIN_SPEECH_S`` are dropped.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import find_peaks

from emi_core.features.voice.framing import FLOOR_DB, HOP_S
from emi_core.features.voice.runs import close_gaps, drop_short_runs, moving_sum

DIGITAL_SILENCE_DB = -90.0
NOISE_FLOOR_PERCENTILE = 10.0
MAX_NOISE_FLOOR_DB = -40.0
ACTIVE_MARGIN_DB = 6.0
MIN_ACTIVE_DB = -70.0
VOICED_PERIODICITY = 0.6
CONTEXT_S = 0.25
MIN_CONTEXT_VOICING = 0.2
MAX_CONTEXT_TONALITY = 0.8
PEAK_CONTEXT_S = 0.4
SYLLABLE_PROMINENCE_DB = 3.0
SYLLABLE_MIN_GAP_S = 0.08
MIN_PITCH_MODULATION_ST = 0.5
MIN_PITCH_FRAMES = 5
MACHINE_PITCH_STD_ST = 0.02
EXTEND_S = 0.2
MAX_PAUSE_S = 0.15
MIN_SPEECH_S = 0.05
VAD_CONTEXT_S = 0.5
VAD_CONFIRM = 0.1
VAD_SPEECH = 0.5


def noise_floor_db(energy_db: np.ndarray) -> float:
    """The clip's background level: a low percentile of the frames above digital silence, capped."""
    audible = energy_db[energy_db > DIGITAL_SILENCE_DB]
    if not audible.size:
        return FLOOR_DB
    return min(float(np.percentile(audible, NOISE_FLOOR_PERCENTILE)), MAX_NOISE_FLOOR_DB)


def active_frames(energy_db: np.ndarray) -> np.ndarray:
    """Frames clearly above the clip's noise floor and the absolute floor."""
    threshold = max(noise_floor_db(energy_db) + ACTIVE_MARGIN_DB, MIN_ACTIVE_DB)
    return energy_db > threshold


def voiced_frames(active: np.ndarray, periodicity: np.ndarray) -> np.ndarray:
    """Active frames periodic enough to carry a pitch."""
    return active & (periodicity >= VOICED_PERIODICITY)


def speech_frames(
    active: np.ndarray,
    voiced: np.ndarray,
    energy_db: np.ndarray,
    semitones: np.ndarray,
    tonality: np.ndarray,
    vad: np.ndarray,
) -> np.ndarray:
    """Speech decision of the module docstring.

    ``semitones`` is the pitch (any reference, NaN if unvoiced); ``vad`` the per-frame speech
    probability of Silero VAD (:func:`emi_core.features.voice.vad.speech_probability`).
    """
    voice_like = _voice_like(active, voiced, energy_db, semitones, tonality)
    speech = active & heard_frames(vad) & (voice_like | (vad >= VAD_SPEECH))
    speech |= active & (moving_sum(speech, int(round(EXTEND_S / HOP_S))) > 0)
    speech = close_gaps(speech, int(round(MAX_PAUSE_S / HOP_S)))
    return drop_short_runs(speech, int(round(MIN_SPEECH_S / HOP_S)))


def heard_frames(vad: np.ndarray) -> np.ndarray:
    """Frames around which the VAD hears a voice: mean probability over ±``VAD_CONTEXT_S`` >= ``VAD_CONFIRM``.

    The window is always full size (the clip's edges count as no speech), so that one confident
    chunk at the very start of a clip is not a context of its own.
    """
    half = int(round(VAD_CONTEXT_S / HOP_S))
    return moving_sum(vad, half) / (2 * half + 1) >= VAD_CONFIRM


def _voice_like(
    active: np.ndarray, voiced: np.ndarray, energy_db: np.ndarray, semitones: np.ndarray, tonality: np.ndarray
) -> np.ndarray:
    """Per frame: does its neighbourhood pass the four tests of step 3?"""
    half = int(round(CONTEXT_S / HOP_S))
    count = np.maximum(moving_sum(active, half), 1.0)
    voicing = moving_sum(voiced, half) / count
    tonal = moving_sum(np.where(active, tonality, 0.0), half) / count
    peaks = np.zeros(len(energy_db))
    peaks[energy_peaks(energy_db, active, SYLLABLE_PROMINENCE_DB, SYLLABLE_MIN_GAP_S)] = 1.0
    syllables = moving_sum(peaks, int(round(PEAK_CONTEXT_S / HOP_S)))
    pitch_std = _moving_std(np.where(voiced, semitones, 0.0), voiced, half)
    modulated = (syllables >= 2) | (pitch_std >= MIN_PITCH_MODULATION_ST)
    machine = (moving_sum(voiced, half) >= MIN_PITCH_FRAMES) & (pitch_std < MACHINE_PITCH_STD_ST)
    return (voicing >= MIN_CONTEXT_VOICING) & (tonal < MAX_CONTEXT_TONALITY) & modulated & ~machine


def energy_peaks(energy_db: np.ndarray, active: np.ndarray, prominence_db: float, min_gap_s: float) -> np.ndarray:
    """Frame indices of the active peaks of the energy envelope (30 ms smoothing) with this prominence."""
    envelope = moving_sum(energy_db, 1) / moving_sum(np.ones_like(energy_db), 1)
    peaks, _ = find_peaks(envelope, distance=max(int(round(min_gap_s / HOP_S)), 1), prominence=prominence_db)
    return peaks[active[peaks]]


def _moving_std(values: np.ndarray, mask: np.ndarray, half: int) -> np.ndarray:
    """Standard deviation of the masked-in ``values`` over a centred window (0 with fewer than 2 of them)."""
    count = moving_sum(mask, half)
    total = moving_sum(values, half)
    squares = moving_sum(values**2, half)
    safe = np.maximum(count, 1.0)
    variance = np.maximum(squares / safe - (total / safe) ** 2, 0.0)
    return np.where(count >= 2, np.sqrt(variance), 0.0)
