"""Non-speech sound made here with numpy (CC0): music, instrumentals, noise, tones and machine sounds.

Used by the speech-detection tests and ``benchmarks/bench_speech_detection.py``. Every generator is
deterministic (fixed seeds), returns 16 kHz mono float32 in [-1, 1] and is meant to be hard for a
speech detector: harmonic sounds with pitch movement (melodies, vibrato), rhythm at syllable rate
(drums, strummed chords), and broadband bursts (snares, claps).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.signal import butter, lfilter, sosfilt

SAMPLE_RATE = 16000
DURATION_S = 5.0

# A minor/major progression (Am–F–C–G) and a pentatonic melody over it, in Hz.
CHORDS = ((220.0, 261.63, 329.63), (174.61, 220.0, 261.63), (261.63, 329.63, 392.0), (196.0, 246.94, 293.66))
MELODY = (440.0, 523.25, 587.33, 659.25, 587.33, 523.25, 440.0, 392.0)


def _time(duration_s: float = DURATION_S) -> np.ndarray:
    return np.arange(int(duration_s * SAMPLE_RATE)) / SAMPLE_RATE


def _normalise(signal: np.ndarray, peak: float = 0.5) -> np.ndarray:
    return (peak * signal / max(float(np.abs(signal).max()), 1e-9)).astype(np.float32)


def _note(f0: float, duration_s: float, harmonics: int = 8, decay_s: float = 0.6, vibrato_st: float = 0.0):
    """A harmonic note with a plucked/struck envelope (fast attack, exponential decay), optional 5.5 Hz vibrato."""
    t = _time(duration_s)
    pitch = f0 * 2.0 ** (vibrato_st * np.sin(2 * np.pi * 5.5 * t) / 12.0)
    phase = 2 * np.pi * np.cumsum(pitch) / SAMPLE_RATE
    tone = sum(np.sin(k * phase) / k for k in range(1, harmonics + 1) if k * f0 < SAMPLE_RATE / 2)
    envelope = np.minimum(t / 0.01, 1.0) * np.exp(-t / decay_s)
    return tone * envelope


def _sequence(notes: list[np.ndarray], step_s: float, total_s: float = DURATION_S) -> np.ndarray:
    """Lay notes every ``step_s`` (each may ring past the next start), cut to ``total_s``."""
    out = np.zeros(int(total_s * SAMPLE_RATE) + SAMPLE_RATE * 2)
    step = int(step_s * SAMPLE_RATE)
    for i, note in enumerate(notes):
        start = i * step
        if start >= int(total_s * SAMPLE_RATE):
            break
        out[start : start + len(note)] += note[: len(out) - start]
    return out[: int(total_s * SAMPLE_RATE)]


def _noise(duration_s: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(int(duration_s * SAMPLE_RATE))


def pink_noise(duration_s: float = DURATION_S, seed: int = 1) -> np.ndarray:
    """1/f noise (Voss–McCartney-like filter of white noise, Kellet's coefficients)."""
    b = [0.049922035, -0.095993537, 0.050612699, -0.004408786]
    a = [1, -2.494956002, 2.017265875, -0.522189400]
    return _normalise(lfilter(b, a, _noise(duration_s, seed)), 0.3)


def brown_noise(duration_s: float = DURATION_S, seed: int = 2) -> np.ndarray:
    """Integrated white noise (1/f²), high-passed at 20 Hz so that it does not drift."""
    walk = np.cumsum(_noise(duration_s, seed))
    return _normalise(sosfilt(butter(2, 20, "highpass", fs=SAMPLE_RATE, output="sos"), walk), 0.3)


def chords(step_s: float = 0.5) -> np.ndarray:
    """Struck (piano-like) triads changing every ``step_s``."""
    notes = [sum(_note(f, 1.2, decay_s=0.5) for f in CHORDS[i % 4]) for i in range(int(DURATION_S / step_s) + 1)]
    return _normalise(_sequence(notes, step_s))


def melody(vibrato_st: float = 0.6) -> np.ndarray:
    """A lead line with vibrato (a flute/violin-like voice without words), a note every 0.3 s."""
    notes = [_note(MELODY[i % 8], 0.45, harmonics=5, decay_s=0.4, vibrato_st=vibrato_st) for i in range(20)]
    return _normalise(_sequence(notes, 0.3))


def drums(seed: int = 3) -> np.ndarray:
    """Kick (150→50 Hz decaying sweep), snare (noise + 180 Hz body) and hi-hats at 120 bpm."""
    t = _time(0.3)
    kick = np.sin(2 * np.pi * np.cumsum(50 + 100 * np.exp(-t / 0.03)) / SAMPLE_RATE) * np.exp(-t / 0.12)
    body = np.sin(2 * np.pi * 180 * t) * np.exp(-t / 0.05)
    snare = 0.6 * _noise(0.3, seed) * np.exp(-t / 0.06) + 0.5 * body
    hat = sosfilt(butter(4, 6000, "highpass", fs=SAMPLE_RATE, output="sos"), _noise(0.3, seed + 1)) * np.exp(-t / 0.02)
    pattern = [kick + 0.3 * hat, 0.3 * hat, snare + 0.3 * hat, 0.3 * hat]  # eighth notes at 120 bpm
    return _normalise(_sequence([pattern[i % 4] for i in range(40)], 0.25))


def band() -> np.ndarray:
    """An instrumental: drums, bass on the beat, strummed chords and the vibrato lead, mixed."""
    bass = _sequence([_note(CHORDS[(i // 4) % 4][0] / 2, 0.5, harmonics=4, decay_s=0.3) for i in range(20)], 0.25)
    return _normalise(drums() + 0.6 * chords(0.25 * 4) + 0.5 * _normalise(bass) + 0.5 * melody())


def plucked(seed: int = 4) -> np.ndarray:
    """Karplus–Strong plucked strings: an arpeggio of the progression, a note every 0.2 s."""
    rng = np.random.default_rng(seed)
    notes = []
    for i in range(25):
        f0 = CHORDS[(i // 6) % 4][i % 3] * (2 if i % 2 else 1)
        period = int(SAMPLE_RATE / f0)
        buffer = rng.uniform(-1, 1, period)
        out = np.empty(int(0.8 * SAMPLE_RATE))
        for n in range(len(out)):
            out[n] = buffer[n % period]
            buffer[n % period] = 0.498 * (buffer[n % period] + buffer[(n + 1) % period])
        notes.append(out)
    return _normalise(_sequence(notes, 0.2))


def organ() -> np.ndarray:
    """Sustained organ chords with a 6 Hz tremolo, changing every second."""
    t = _time(1.0)
    notes = [sum(np.sin(2 * np.pi * f * t * k) / k for f in CHORDS[i % 4] for k in (1, 2, 4)) for i in range(5)]
    for note in notes:
        note *= (1 + 0.4 * np.sin(2 * np.pi * 6 * t)) * np.minimum(np.minimum(t, 1 - t) / 0.02, 1.0)
    return _normalise(_sequence(notes, 1.0))


def tone(f0: float = 440.0) -> np.ndarray:
    """A steady sine."""
    return _normalise(np.sin(2 * np.pi * f0 * _time()), 0.3)


def sweep(low: float = 100.0, high: float = 4000.0) -> np.ndarray:
    """An exponential sine sweep up and back down."""
    t = _time()
    half = DURATION_S / 2
    frequency = low * (high / low) ** np.where(t < half, t / half, (DURATION_S - t) / half)
    return _normalise(np.sin(2 * np.pi * np.cumsum(frequency) / SAMPLE_RATE), 0.3)


def ringtone() -> np.ndarray:
    """A phone ring: 480 + 620 Hz warbled at 20 Hz, two seconds on, one off (shortened: 0.8 on, 0.4 off)."""
    t = _time()
    on = (t % 1.2) < 0.8
    warble = 0.5 * (1 + np.sign(np.sin(2 * np.pi * 20 * t)))
    return _normalise((np.sin(2 * np.pi * 480 * t) + np.sin(2 * np.pi * 620 * t)) * on * (0.5 + 0.5 * warble), 0.3)


def claps(seed: int = 5) -> np.ndarray:
    """Hand claps at a syllable-like, slightly irregular rate (band-passed noise bursts)."""
    rng = np.random.default_rng(seed)
    t = _time(0.15)
    burst = sosfilt(butter(2, (800, 3000), "bandpass", fs=SAMPLE_RATE, output="sos"), _noise(0.15, seed))
    gaps = rng.uniform(0.18, 0.35, 30)
    out = np.zeros(len(_time()))
    start = 0.1
    for gap in gaps:
        index = int(start * SAMPLE_RATE)
        if index + len(t) > len(out):
            break
        out[index : index + len(t)] += burst * np.exp(-t / 0.02)
        start += gap
    return _normalise(out)


NONSPEECH: dict[str, Callable[[], np.ndarray]] = {
    "white noise": lambda: _normalise(_noise(DURATION_S, 0), 0.3),
    "pink noise": pink_noise,
    "brown noise": brown_noise,
    "tone 440 Hz": tone,
    "tone 150 Hz": lambda: tone(150.0),
    "sweep": sweep,
    "ringtone": ringtone,
    "piano chords": chords,
    "vibrato melody": melody,
    "plucked arpeggio": plucked,
    "organ tremolo": organ,
    "drums": drums,
    "band (instrumental)": band,
    "claps": claps,
}
"""Every non-speech sound, by name (a callable so that nothing is synthesised until asked for)."""
