"""Laughter-like burst trains: a documented heuristic, not a trained laughter detector.

Laughter is a train of short, similar vocal bursts ("ha-ha-ha") at a steady 4–6 per second, often
higher in pitch than the speaker's speech and separated by breathy aspiration (Bachorowski, Smoski &
Owren 2001, JASA 110(3); Provine 2000). The heuristic:

1. **Bursts**: peaks of the energy envelope (30 ms smoothing) at least ``BURST_PROMINENCE_DB`` above
   the surrounding dips, at least ``MIN_INTERVAL_S`` apart, on active frames that are not a pure tone.
2. **Trains**: runs of at least ``MIN_TRAIN_BURSTS`` bursts whose successive intervals all lie in
   [``MIN_INTERVAL_S``, ``MAX_INTERVAL_S``] (3.3–8.3 bursts per second), at least
   ``MIN_VOICED_BURSTS`` of them voiced (a laugh is voiced "ha"s; claps, snares and hi-hats are not),
   and heard as a voice by the VAD over at least ``MIN_HEARD_SHARE`` of the train's span
   (:func:`emi_core.features.voice.activity.heard_frames`): a tremolo or a strummed instrument has
   the rhythm and the voicing of a laugh, but not its sound.
3. **Score** of a train (0–1) = rhythm × length × vocal quality, with
   - rhythm = 1 − CV(intervals) / ``MAX_INTERVAL_CV`` (clipped): laughter is much more regular than
     the syllables of speech;
   - length = (bursts − 1) / 3, capped at 1 (four bursts or more count fully);
   - vocal quality = max(pitch elevation over the speaker's median voiced speech pitch / ``HIGH_PITCH_ST``,
     share of unvoiced active frames in the train / ``BREATHY_SHARE``), each capped at 1; without
     speech in the clip there is no speaker pitch to rise above (a melody's own median is none), so
     only the breathiness counts.
   The frames a train spans carry its score; its burst peaks are flagged.

Fluent speech can produce short regular trains (counting, chanting, "ba-ba-ba"), so a moderate score
on speech is expected now and then; use the score as evidence, not as a decision.
"""

from __future__ import annotations

import numpy as np

from emi_core.features.voice.activity import energy_peaks
from emi_core.features.voice.framing import HOP_S
from emi_core.features.voice.runs import runs

BURST_PROMINENCE_DB = 6.0
MIN_INTERVAL_S = 0.12
MAX_INTERVAL_S = 0.30
MIN_TRAIN_BURSTS = 3
MAX_INTERVAL_CV = 0.35
HIGH_PITCH_ST = 4.0
BREATHY_SHARE = 0.5
MIN_VOICED_BURSTS = 0.5
MIN_HEARD_SHARE = 0.5
PURE_TONE_TONALITY = 0.9
SPAN_BEFORE_S = 0.05
SPAN_AFTER_S = 0.10


def laughter(
    energy_db: np.ndarray,
    semitones: np.ndarray,
    voiced: np.ndarray,
    active: np.ndarray,
    speech: np.ndarray,
    tonality: np.ndarray,
    heard: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(peak, score)`` per frame: burst peaks of laughter-like trains, and the train scores.

    ``heard`` marks the frames around which the VAD hears a voice.
    """
    count = len(energy_db)
    peak_mask = np.zeros(count, bool)
    score = np.zeros(count)
    peaks = _bursts(energy_db, active, tonality)
    if len(peaks) < MIN_TRAIN_BURSTS:
        return peak_mask, score
    intervals = np.diff(peaks) * HOP_S
    in_rhythm = (intervals >= MIN_INTERVAL_S) & (intervals <= MAX_INTERVAL_S)
    reference = _reference_pitch(semitones, voiced, speech)
    for first, last in zip(*runs(in_rhythm), strict=True):  # intervals first..last-1 join bursts first..last
        if last - first + 1 < MIN_TRAIN_BURSTS:
            continue
        train = peaks[first : last + 1]
        if voiced[train].mean() < MIN_VOICED_BURSTS:
            continue
        start = max(train[0] - int(round(SPAN_BEFORE_S / HOP_S)), 0)
        stop = min(train[-1] + int(round(SPAN_AFTER_S / HOP_S)) + 1, count)
        span = slice(start, stop)
        if heard[span].mean() < MIN_HEARD_SHARE:
            continue
        value = _train_score(intervals[first:last], semitones[span], voiced[span], active[span], reference)
        peak_mask[train] = True
        score[span] = np.maximum(score[span], value)
    return peak_mask, score


def _bursts(energy_db: np.ndarray, active: np.ndarray, tonality: np.ndarray) -> np.ndarray:
    """Frame indices of prominent energy peaks on active, non-tonal frames."""
    peaks = energy_peaks(energy_db, active, BURST_PROMINENCE_DB, MIN_INTERVAL_S)
    return peaks[tonality[peaks] < PURE_TONE_TONALITY]


def _reference_pitch(semitones: np.ndarray, voiced: np.ndarray, speech: np.ndarray) -> float | None:
    """The speaker's typical pitch: median over voiced speech frames (None without any)."""
    mask = voiced & speech
    return float(np.median(semitones[mask])) if mask.any() else None


def _train_score(
    intervals: np.ndarray, semitones: np.ndarray, voiced: np.ndarray, active: np.ndarray, reference: float | None
) -> float:
    """Score of one burst train (module docstring, step 3)."""
    rhythm = np.clip(1.0 - np.std(intervals) / np.mean(intervals) / MAX_INTERVAL_CV, 0.0, 1.0)
    length = min(len(intervals) / 3.0, 1.0)
    elevation = 0.0
    if reference is not None and voiced.any():
        elevation = np.clip((np.median(semitones[voiced]) - reference) / HIGH_PITCH_ST, 0.0, 1.0)
    breathy = np.clip(np.mean(~voiced[active]) / BREATHY_SHARE, 0.0, 1.0) if active.any() else 0.0
    return float(rhythm * length * max(elevation, breathy))
