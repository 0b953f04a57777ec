"""Window-level voice summaries (:class:`VoiceSummary`) over ``[start, end)`` spans of the frame tracks.

Statistics are taken over the window's speech frames (energy and spectrum: speech frames that are
active, so filled pauses do not count; pitch: voiced speech frames). A window without enough of them
gets neutral values, never NaN, and ``has_speech`` / ``has_pitch`` False:

- ``energy_mean_db`` -100 (the floor), ``energy_std_db`` / ``energy_range_db`` 0;
- ``pitch_mean_hz`` 0, ``pitch_std_st`` / ``pitch_range_st`` / ``pitch_elevation_st`` 0;
- ``centroid_hz`` 0, ``tilt_db`` 0, ``flux`` 0.

Ratios, rates and the laughter score are always defined (0 for an empty window).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emi_core.features.voice.analysis import VoiceFrames, semitones
from emi_core.features.voice.framing import FLOOR_DB

MIN_FRAMES = 3  # fewer speech (voiced) frames than this: has_speech (has_pitch) is False
RANGE_PERCENTILES = (5.0, 95.0)


@dataclass(frozen=True)
class VoiceSummary:
    """Voice features of one window; see the module docstring for the neutral values.

    - ``speech_ratio``: share of the window's frames that are speech (0–1);
    - ``voiced_ratio``: share of the speech frames that are voiced (0–1);
    - ``energy_mean_db`` (dBFS), ``energy_std_db``, ``energy_range_db`` (5th–95th percentile spread);
    - ``pitch_mean_hz``; ``pitch_std_st`` and ``pitch_range_st`` (variability in semitones);
      ``pitch_elevation_st``: the window's mean pitch minus the clip's median speech pitch, in semitones;
    - ``centroid_hz`` (spectral centroid), ``tilt_db`` (alpha ratio, 1–5 kHz over 50 Hz–1 kHz),
      ``flux`` (mean spectral change, 0–1);
    - ``onset_rate``: voiced onsets per second over the window (a lower bound of the syllable rate:
      syllables joined by voicing count once);
    - ``laughter_bursts`` (count), ``laughter_rate`` (bursts per second) and ``laughter_score`` (0–1,
      the time-weighted laughter-train score) from :mod:`emi_core.features.voice.laughter`.
    """

    start_s: float
    end_s: float
    speech_ratio: float
    voiced_ratio: float
    energy_mean_db: float
    energy_std_db: float
    energy_range_db: float
    pitch_mean_hz: float
    pitch_std_st: float
    pitch_range_st: float
    pitch_elevation_st: float
    centroid_hz: float
    tilt_db: float
    flux: float
    onset_rate: float
    laughter_bursts: int
    laughter_rate: float
    laughter_score: float
    has_speech: bool
    has_pitch: bool


def windows(duration_s: float, size_s: float = 1.0, hop_s: float = 0.5) -> list[tuple[float, float]]:
    """``[start, end)`` windows of ``size_s`` every ``hop_s`` covering ``[0, duration_s]``.

    The last window is aligned to the end of the clip so that every window has the full size; a clip
    shorter than ``size_s`` gets the single window ``(0, duration_s)``; no window for zero duration.
    """
    if size_s <= 0 or hop_s <= 0:
        raise ValueError(f"window size and hop must be positive (got {size_s}, {hop_s})")
    if duration_s <= 0:
        return []
    if duration_s <= size_s:
        return [(0.0, float(duration_s))]
    count = int(np.floor((duration_s - size_s) / hop_s + 1e-9)) + 1
    spans = [(k * hop_s, k * hop_s + size_s) for k in range(count)]
    if spans[-1][1] < duration_s - 1e-9:
        spans.append((duration_s - size_s, float(duration_s)))
    return spans


def summarise(frames: VoiceFrames, start_s: float | None = None, end_s: float | None = None) -> VoiceSummary:
    """Summarise the frames whose centre lies in ``[start_s, end_s)`` (default: the whole clip)."""
    start = 0.0 if start_s is None else float(start_s)
    end = frames.duration_s if end_s is None else float(end_s)
    inside = (frames.times >= start) & (frames.times < (np.inf if end_s is None else end))
    duration = max(end - start, 0.0)
    speech = frames.speech & inside
    heard = speech & frames.active
    voiced = speech & frames.voiced
    has_speech = int(heard.sum()) >= MIN_FRAMES
    has_pitch = int(voiced.sum()) >= MIN_FRAMES
    tones = semitones(frames.pitch_hz)
    laughter_peaks = int((frames.laughter_peak & inside).sum())
    energy = frames.energy_db[heard]
    pitch = tones[voiced]
    return VoiceSummary(
        start_s=start,
        end_s=end,
        speech_ratio=_share(speech, inside),
        voiced_ratio=_share(voiced, speech),
        energy_mean_db=float(energy.mean()) if has_speech else FLOOR_DB,
        energy_std_db=float(energy.std()) if has_speech else 0.0,
        energy_range_db=_spread(energy) if has_speech else 0.0,
        pitch_mean_hz=float(np.mean(frames.pitch_hz[voiced])) if has_pitch else 0.0,
        pitch_std_st=float(pitch.std()) if has_pitch else 0.0,
        pitch_range_st=_spread(pitch) if has_pitch else 0.0,
        pitch_elevation_st=float(pitch.mean() - _speaker_pitch(frames, tones)) if has_pitch else 0.0,
        centroid_hz=float(frames.centroid_hz[heard].mean()) if has_speech else 0.0,
        tilt_db=float(frames.tilt_db[heard].mean()) if has_speech else 0.0,
        flux=float(frames.flux[heard].mean()) if has_speech else 0.0,
        onset_rate=_rate(int((frames.onset & inside).sum()), duration),
        laughter_bursts=laughter_peaks,
        laughter_rate=_rate(laughter_peaks, duration),
        laughter_score=float(frames.laughter[inside].mean()) if inside.any() else 0.0,
        has_speech=has_speech,
        has_pitch=has_pitch,
    )


def _speaker_pitch(frames: VoiceFrames, tones: np.ndarray) -> float:
    """The clip's median voiced speech pitch in semitones (the speaker's baseline)."""
    return float(np.median(tones[frames.speech & frames.voiced]))


def _share(part: np.ndarray, whole: np.ndarray) -> float:
    total = int(whole.sum())
    return float(part.sum() / total) if total else 0.0


def _spread(values: np.ndarray) -> float:
    low, high = np.percentile(values, RANGE_PERCENTILES)
    return float(high - low)


def _rate(count: int, duration_s: float) -> float:
    return count / duration_s if duration_s > 0 else 0.0
