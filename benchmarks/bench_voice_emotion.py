"""The default model's audio channel on labelled acted speech (``../shared/emotion-dev``, RAVDESS).

Usage:
    python benchmarks/bench_voice_emotion.py [--dev DIR] [--repetition 1|2]

The EMI prior's audio channel (clip values, six intensities) on every clip, compared with the
acted categories mapped to the six dimensions (the mapping below, also on the model card):

* **Pearson r** per dimension between the channel and the mapped label over all clips, and their
  mean. A clip's label on a dimension is 1 for a ``strong`` take of a category mapped to it, 0.5 for
  a ``normal`` take, 0 otherwise (neutral, calm and disgust map to nothing);
* **strong > normal**: over the pairs of takes of one actor, category, sentence and repetition, the
  share where the ``strong`` take scores higher on the category's dimensions (their mean) than the
  ``normal`` take;
* both again with every clip's **loudness normalised** (speech level set to -26 dBFS), so that plain
  recording volume is not what is measured.

Nothing here is fitted. The figures are printed for the "tuning" actors (those looked at while the
voice cues were designed), the "evaluation" actors (not looked at) and all 14; the held-out set of
the maintainers is never read. Lines "before" (hand-set prosody only) and "after" live on the model
card with the commit that measured them.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from emotion_dev import DEFAULT_DEV, DevClip, load_manifest  # noqa: E402

from emi_core.emotions import EMOTIONS  # noqa: E402
from emi_core.features.voice import analyse_voice  # noqa: E402
from emi_core.features.voice.framing import energy_db, frame_audio  # noqa: E402
from emi_core.media import AUDIO_SAMPLE_RATE  # noqa: E402
from emi_core.models.backend import AudioInput  # noqa: E402
from emi_core.models.prior import EMIPrior  # noqa: E402

MAPPING: dict[str, tuple[str, ...]] = {
    "happy": ("Joy", "Amusement", "Excitement"),
    "sad": ("Empathic Pain",),
    "angry": ("Determination", "Excitement"),
    "fearful": ("Excitement",),
    "surprised": ("Admiration", "Excitement"),
}
"""Acted category → the EMI dimensions it is mapped to (high-arousal categories also → Excitement)."""

INTENSITY_LABEL = {"normal": 0.5, "strong": 1.0}
TUNING_ACTORS = ("02", "05", "06", "07", "08", "11", "12")
SPEECH_LEVEL_DBFS = -26.0
LOUD_FRAMES_DB = 30.0  # the speech level is the RMS of the frames within this of the loudest frame


def labels(clip: DevClip) -> np.ndarray:
    """The clip's ``(6,)`` mapped label (0 on dimensions its category does not map to)."""
    value = INTENSITY_LABEL[clip.intensity]
    return np.array([value if emotion in MAPPING.get(clip.emotion, ()) else 0.0 for emotion in EMOTIONS])


def normalise_loudness(audio: np.ndarray) -> np.ndarray:
    """``audio`` scaled so that its speech level (RMS of its loud frames) is ``SPEECH_LEVEL_DBFS``."""
    energy = energy_db(frame_audio(audio, AUDIO_SAMPLE_RATE))
    loud = energy >= energy.max() - LOUD_FRAMES_DB
    level = 10 * np.log10(np.mean(10 ** (energy[loud] / 10)))
    return np.clip(audio * 10 ** ((SPEECH_LEVEL_DBFS - level) / 20), -1.0, 1.0).astype(np.float32)


def audio_channel(prior: EMIPrior, audio: np.ndarray) -> np.ndarray:
    """The prior's audio-channel clip values, as the pipeline computes them."""
    output = prior.predict_audio(AudioInput(audio, AUDIO_SAMPLE_RATE, analyse_voice(audio, AUDIO_SAMPLE_RATE)))
    return np.zeros(len(EMOTIONS)) if output is None else np.asarray(output.clip, dtype=np.float64)


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson r (0 when either side is constant)."""
    if np.std(x) == 0 or np.std(y) == 0:
        return 0.0
    return float(np.corrcoef(x, y)[0, 1])


def pair_rate(clips: list[DevClip], scores: np.ndarray) -> tuple[int, int]:
    """(pairs where strong > normal on the category's dimensions, pairs)."""
    index = {(c.actor, c.emotion, c.statement, c.repetition, c.intensity): i for i, c in enumerate(clips)}
    columns = {emotion: [EMOTIONS.index(e) for e in dims] for emotion, dims in MAPPING.items()}
    wins = total = 0
    for (actor, emotion, statement, repetition, intensity), strong in index.items():
        normal = index.get((actor, emotion, statement, repetition, "normal"))
        if intensity != "strong" or normal is None or emotion not in MAPPING:
            continue
        total += 1
        wins += scores[strong, columns[emotion]].mean() > scores[normal, columns[emotion]].mean()
    return wins, total


def report(title: str, clips: list[DevClip], scores: np.ndarray) -> None:
    """One line per actor group: r per dimension, mean r, strong > normal."""
    truth = np.stack([labels(c) for c in clips])
    groups = {
        "tuning actors": [c.actor in TUNING_ACTORS for c in clips],
        "evaluation actors": [c.actor not in TUNING_ACTORS for c in clips],
        "all actors": [True] * len(clips),
    }
    print(f"\n{title}")
    header = " ".join(f"{e[:10]:>10s}" for e in EMOTIONS)
    print(f"{'actors':18s} {'clips':>5s} {header}     mean r  strong>normal")
    for name, mask in groups.items():
        mask = np.array(mask)
        rs = [pearson(scores[mask, k], truth[mask, k]) for k in range(len(EMOTIONS))]
        subset = [c for c, keep in zip(clips, mask, strict=True) if keep]
        wins, total = pair_rate(subset, scores[mask])
        print(
            f"{name:18s} {int(mask.sum()):5d} " + " ".join(f"{r:10.3f}" for r in rs)
            + f" {np.mean(rs):10.3f}  {wins:4d}/{total:<4d} {100 * wins / max(total, 1):5.1f}%"
        )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=DEFAULT_DEV, help="emotion-dev folder (default: %(default)s)")
    parser.add_argument("--repetition", type=int, choices=(1, 2), help="only this repetition (default: both)")
    args = parser.parse_args()

    clips = [c for c in load_manifest(args.dev) if args.repetition in (None, c.repetition)]
    prior = EMIPrior()
    start = time.perf_counter()
    raw, normalised = [], []
    for clip in clips:
        audio = clip.audio()
        raw.append(audio_channel(prior, audio))
        normalised.append(audio_channel(prior, normalise_loudness(audio)))
    print(f"emotion-dev: {len(clips)} clips, {time.perf_counter() - start:.0f} s (shared machine)")
    print("mapping: " + "; ".join(f"{k} → {', '.join(v)}" for k, v in MAPPING.items()) + "; strong 1, normal 0.5")
    report("audio channel, clips as recorded", clips, np.stack(raw))
    report("audio channel, loudness normalised (speech level -26 dBFS)", clips, np.stack(normalised))


if __name__ == "__main__":
    main()
