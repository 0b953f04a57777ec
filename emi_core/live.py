"""Live analysis: a webcam / microphone stream analysed as it comes, with the pipeline's own pieces.

Each video frame goes through the same face tracker, expression CNN, Action Units and EMI prior
table as a clip in :class:`~emi_core.pipeline.EMIPipeline`; each new stretch of audio through the
same voice analysis. What is kept is bounded: the last :data:`VISUAL_WINDOW_S` seconds of per-frame
results (the AU baseline and the smoothing need a little history), the last :data:`AUDIO_WINDOW_S`
seconds of audio and the last :data:`HISTORY_S` seconds of intensities for the rolling timeline.
Nothing is written anywhere; :meth:`LiveAnalyser.close` releases the tracker.

>>> with LiveAnalyser(EMIPrior()) as live:
...     update = live.add_frame(rgb_frame)        # or live.add_audio(samples, sample_rate)
...     update.fused                               # (6,) intensities now, or None
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import cv2
import numpy as np
import torch
from scipy.signal import resample_poly

from emi_core.emotions import EMOTIONS
from emi_core.errors import MediaError
from emi_core.faces import FaceTracker
from emi_core.features.au import AU_NAMES, au_measures, clip_baseline, scale_measures
from emi_core.features.voice import analyse_voice
from emi_core.fusion import fuse
from emi_core.media import AUDIO_SAMPLE_RATE, MediaLimits, is_silent
from emi_core.models.backend import AudioInput
from emi_core.models.prior import EMIPrior
from emi_core.result import Curve

VISUAL_WINDOW_S = 6.0
"""Seconds of face history: the AU baseline of live mode is the subject's neutral over this window."""

AUDIO_WINDOW_S = 3.0
"""Seconds of audio analysed at each audio update (the voice cues use 1 s windows)."""

HISTORY_S = 30.0
"""Seconds of intensities kept for the rolling timeline."""

MAX_UPDATES_PER_S = 30
"""Bound on the stored history (its length is ``HISTORY_S × MAX_UPDATES_PER_S`` at most)."""

MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 8_000, 192_000
"""Microphone sample rates accepted (anything else is refused with a one-line error)."""

STALE_S = 2.0
"""A channel's last value is dropped from the fused one when its input stopped this long ago."""


@dataclass
class _Frame:
    time_s: float
    measures: np.ndarray  # (K,) raw AU measures
    probabilities: np.ndarray  # (7,) expression CNN


@dataclass
class LiveUpdate:
    """The intensities right after one input arrived, and what it cost."""

    time_s: float
    visual: np.ndarray | None
    audio: np.ndarray | None
    fused: np.ndarray | None
    face_found: bool | None
    """Whether the newest frame had a face (``None`` before the first frame)."""
    compute_s: float
    """Seconds spent analysing this input (tracker, CNN, AUs, voice, table, fusion)."""
    history: Curve = field(repr=False)
    """The fused intensities of the last :data:`HISTORY_S` seconds."""


class LiveAnalyser:
    """Analyse one person's live stream; one instance per session (not shared between users).

    Thread-safe: video and audio may arrive from two event handlers at once. Times are seconds
    since the first input unless given.
    """

    def __init__(self, prior: EMIPrior, limits: MediaLimits | None = None):
        self.prior = prior
        self.max_side = (limits or MediaLimits()).max_side
        self.tracker = FaceTracker(crop_size=prior.crop_size, grayscale=prior.grayscale)
        self._frames: deque[_Frame] = deque()
        self._audio: deque[np.ndarray] = deque()
        self._audio_rate: int | None = None
        self._history: deque[tuple[float, np.ndarray]] = deque(maxlen=int(HISTORY_S * MAX_UPDATES_PER_S))
        self._visual: tuple[float, np.ndarray] | None = None
        self._audio_value: tuple[float, np.ndarray] | None = None
        self._start: float | None = None
        self._face_found: bool | None = None
        self._lock = threading.Lock()
        self.updates = 0

    # -- inputs ----------------------------------------------------------------------------------

    def add_frame(self, frame: np.ndarray, time_s: float | None = None) -> LiveUpdate:
        """Analyse one ``(H, W, 3)`` uint8 RGB frame (downscaled to the media limit's longest side)."""
        with self._lock:
            started = time.perf_counter()
            now = self._now(time_s)
            seen = self.tracker(_fit(frame, self.max_side), now)
            if seen.found:
                with one_torch_thread():
                    probabilities = self.prior.expression_cnn.predict(seen.crop[None])[0]
                self._frames.append(_Frame(now, au_measures(seen.landmarks[None])[0], probabilities))
            while self._frames and self._frames[0].time_s < now - VISUAL_WINDOW_S:
                self._frames.popleft()
            if self._frames and seen.found:
                self._visual = (now, self._visual_now())
            self._face_found = seen.found
            return self._update(now, started)

    def add_audio(self, samples: np.ndarray, sample_rate: int, time_s: float | None = None) -> LiveUpdate:
        """Analyse the last :data:`AUDIO_WINDOW_S` seconds including ``samples`` (int or float PCM, mono or
        ``(n, channels)``) at ``sample_rate``; a change of rate starts the buffer afresh."""
        if not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
            expected = f"{MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz"
            raise MediaError(f"unsupported audio sample rate {sample_rate} Hz (expected {expected})")
        with self._lock:
            started = time.perf_counter()
            now = self._now(time_s)
            if sample_rate != self._audio_rate:
                self._audio.clear()
                self._audio_rate = int(sample_rate)
            self._audio.append(_mono_float(samples)[-int(AUDIO_WINDOW_S * sample_rate) :])  # bounded, however long
            kept = sum(len(chunk) for chunk in self._audio)
            while len(self._audio) > 1 and kept - len(self._audio[0]) >= AUDIO_WINDOW_S * sample_rate:
                kept -= len(self._audio.popleft())
            audio = self._audio_now()
            if audio is not None:
                self._audio_value = (now, audio)
            return self._update(now, started)

    # -- analysis --------------------------------------------------------------------------------

    def _visual_now(self) -> np.ndarray:
        """The prior's visual channel over the face window; its value at the newest frame."""
        frames = list(self._frames)
        measures = np.stack([frame.measures for frame in frames])
        units = scale_measures(measures, clip_baseline(measures))
        times = np.array([frame.time_s for frame in frames])
        output = self.prior.visual_from_expressions(np.stack([f.probabilities for f in frames]), units, times, AU_NAMES)
        return output.timeline.values[-1]

    def _audio_now(self) -> np.ndarray | None:
        """The prior's audio channel over the audio window; its newest window (``None`` if silent)."""
        waveform = np.concatenate(list(self._audio))
        if self._audio_rate != AUDIO_SAMPLE_RATE:
            waveform = resample_poly(waveform, AUDIO_SAMPLE_RATE, self._audio_rate).astype(np.float32)
        if len(waveform) < AUDIO_SAMPLE_RATE // 4 or is_silent(waveform):
            return None  # as in a clip: a silent track gives the audio channel no input
        voice = analyse_voice(waveform, AUDIO_SAMPLE_RATE)
        output = self.prior.predict_audio(AudioInput(waveform, AUDIO_SAMPLE_RATE, voice))
        return output.timeline.values[-1]

    def _update(self, now: float, started: float) -> LiveUpdate:
        visual = _fresh(self._visual, now)
        audio = _fresh(self._audio_value, now)
        fused = fuse({"visual": visual, "audio": audio}, self.prior.fusion)
        if fused is not None:
            self._history.append((now, fused))
        while self._history and self._history[0][0] < now - HISTORY_S:
            self._history.popleft()
        self.updates += 1
        times = np.array([t for t, _ in self._history])
        values = np.array([v for _, v in self._history]).reshape(len(times), len(EMOTIONS))
        compute_s = time.perf_counter() - started
        return LiveUpdate(now, visual, audio, fused, self._face_found, compute_s, Curve(times, values))

    def _now(self, time_s: float | None) -> float:
        clock = time.monotonic()
        if self._start is None:
            self._start = clock if time_s is None else clock - time_s
        return clock - self._start if time_s is None else float(time_s)

    # -- lifetime --------------------------------------------------------------------------------

    def close(self) -> None:
        """Release the face tracker and forget every frame, sample and value."""
        with self._lock:
            self.tracker.close()
            self._frames.clear()
            self._audio.clear()
            self._history.clear()
            self._visual = self._audio_value = self._face_found = None

    def __enter__(self) -> LiveAnalyser:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


_THREADS_LOCK = threading.Lock()
_single_threaded = 0
_saved_threads = 1


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run torch on one intra-op thread inside the block (any number of threads may be inside at once).

    One 64 × 64 crop is too small to split: on a busy 2-core machine two threads spend far longer
    waiting for each other (measured 21-25 ms against 4-5 ms per crop, median, load ~9).
    """
    global _single_threaded, _saved_threads
    with _THREADS_LOCK:
        if _single_threaded == 0:
            _saved_threads = torch.get_num_threads()
            torch.set_num_threads(1)
        _single_threaded += 1
    try:
        yield
    finally:
        with _THREADS_LOCK:
            _single_threaded -= 1
            if _single_threaded == 0:
                torch.set_num_threads(_saved_threads)


def _fresh(value: tuple[float, np.ndarray] | None, now: float) -> np.ndarray | None:
    return value[1] if value is not None and now - value[0] <= STALE_S else None


def _fit(frame: np.ndarray, max_side: int) -> np.ndarray:
    """``frame`` scaled down so that its longest side is at most ``max_side`` (never up)."""
    height, width = frame.shape[:2]
    if max(height, width) <= max_side:
        return frame
    scale = max_side / max(height, width)
    return cv2.resize(frame, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)


def _mono_float(samples: np.ndarray) -> np.ndarray:
    """float32 mono in [-1, 1] from int16 / int32 / float PCM, ``(n,)`` or ``(n, channels)``."""
    samples = np.asarray(samples)
    scale = float(np.iinfo(samples.dtype).max) if np.issubdtype(samples.dtype, np.integer) else 1.0
    samples = samples.astype(np.float32) / scale
    return samples.mean(axis=1) if samples.ndim == 2 else samples
