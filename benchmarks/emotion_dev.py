"""The labelled development set of acted speech (``../shared/emotion-dev``, RAVDESS, CC BY-NC-SA 4.0).

Read from beside the repository, never copied into it. See that folder's README for its contents;
it holds RAVDESS actors 02, 05–08, 11, 12, 15–18, 20, 23 and 24 only (none of the held-out ones).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.io import wavfile

DEFAULT_DEV = Path(os.environ.get("EMI_EMOTION_DEV", Path(__file__).resolve().parents[2] / "shared" / "emotion-dev"))


@dataclass(frozen=True)
class DevClip:
    """One row of ``manifest.csv``."""

    path: Path
    actor: str
    emotion: str
    intensity: str
    statement: str
    repetition: int

    def audio(self) -> np.ndarray:
        """The clip as float32 in [-1, 1] (16 kHz mono 16-bit PCM on disk)."""
        rate, samples = wavfile.read(self.path)
        if rate != 16000 or samples.ndim != 1:
            raise ValueError(f"{self.path.name}: expected 16 kHz mono, got {rate} Hz, shape {samples.shape}")
        return (samples.astype(np.float32) / 32768.0).astype(np.float32)


def load_manifest(folder: Path = DEFAULT_DEV) -> list[DevClip]:
    """Every clip of the set, in manifest order; ``SystemExit`` with one line if the set is missing."""
    manifest = folder / "manifest.csv"
    if not manifest.is_file():
        raise SystemExit(f"emotion-dev not found: {manifest} (set EMI_EMOTION_DEV or pass --dev)")
    with manifest.open(newline="") as handle:
        return [
            DevClip(folder / row["file"], row["actor"], row["emotion"], row["intensity"], row["statement"],
                    int(row["repetition"]))
            for row in csv.DictReader(handle)
        ]  # fmt: skip
