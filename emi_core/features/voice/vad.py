"""Voice-activity probabilities from Silero VAD (MIT, weights shipped inside the ``silero-vad`` wheel).

Silero VAD is a small trained network (about 2 MB) that tells speech from music, noise, tones and
other sound, where a hand-written test of periodicity and modulation cannot: instruments are
periodic and modulated too. Its ONNX model is read from the package's own data folder and run with
ONNX Runtime on one thread (its 32 ms steps are tiny and sequential: more threads only wait on each
other, and torch's thread pool is left to the other models); nothing is downloaded. It scores every
32 ms chunk of 16 kHz audio with the probability that it holds speech; :func:`speech_probability`
puts those scores on the voice analysis' 10 ms frame grid.

The package is located without being imported: importing ``silero_vad`` sets torch's thread count
to 1 for the whole process, which would slow every other model.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

from emi_core.features.voice.framing import HOP_S

VAD_RATE = 16000
CHUNK = 512  # samples per Silero step at 16 kHz (32 ms)
CONTEXT = 64  # samples of the previous step the model sees before each chunk
STATE_SHAPE = (2, 1, 128)
MODEL_FILE = "silero_vad.onnx"


def silero_model_path() -> Path:
    """The ONNX weights inside the installed ``silero-vad`` package (``RuntimeError`` if absent)."""
    spec = importlib.util.find_spec("silero_vad")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("speech detection needs the silero-vad package (pip install silero-vad)")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / MODEL_FILE
    if not path.is_file():
        raise RuntimeError(f"the silero-vad package has no {MODEL_FILE}: reinstall silero-vad")
    return path


@lru_cache(maxsize=1)
def load_vad():
    """An ONNX Runtime session of Silero VAD on the CPU, one thread (made once per process; thread-safe)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(silero_model_path()), options, providers=["CPUExecutionProvider"])


def chunk_probability(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Silero's speech probability for each 32 ms chunk of ``audio`` (resampled to 16 kHz if needed).

    The same computation as ``silero_vad``'s ``audio_forward``: the recurrent state starts at zero,
    each chunk is preceded by the last 64 samples of the one before, the end is zero-padded.
    """
    samples = np.asarray(audio, dtype=np.float32)
    if sample_rate != VAD_RATE:
        samples = resample_poly(samples, VAD_RATE, sample_rate).astype(np.float32)
    steps = max(1, -(-samples.size // CHUNK))
    padded = np.zeros(CONTEXT + steps * CHUNK, np.float32)
    padded[CONTEXT : CONTEXT + samples.size] = samples
    session = load_vad()
    state = np.zeros(STATE_SHAPE, np.float32)
    rate = np.array(VAD_RATE, dtype=np.int64)
    probability = np.empty(steps)
    for step in range(steps):
        window = padded[step * CHUNK : (step + 1) * CHUNK + CONTEXT][None, :]
        out, state = session.run(None, {"input": window, "state": state, "sr": rate})
        probability[step] = float(out.reshape(-1)[0])
    return probability


def speech_probability(audio: np.ndarray, sample_rate: int, frames: int) -> np.ndarray:
    """Speech probability on the ``frames`` 10 ms frames of the voice analysis (frame i centred at i·10 ms).

    Each frame takes the probability of the chunk holding its centre (chunks are 32 ms, from 0).
    """
    if frames == 0:
        return np.zeros(0)
    probability = chunk_probability(audio, sample_rate)
    index = np.minimum((np.arange(frames) * HOP_S * VAD_RATE // CHUNK).astype(int), len(probability) - 1)
    return probability[index]
