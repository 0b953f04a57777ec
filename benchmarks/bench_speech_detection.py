"""Speech detection on speech vs. music, instrumentals, noise and tones: accuracy of the speech decision.

Usage:
    python benchmarks/bench_speech_detection.py [--media DIR] [--dev DIR] [--dev-limit N]

For every clip, the voice analysis's speech ratio (share of 10 ms frames taken for speech, what the
app shows as "speech NN%") and the EMI prior's audio channel (the largest of its six clip values):

* **speech**: the talking clips of ``tests/data/media`` (CREMA-D, GRID, Obama; those with an audible
  track) and the acted sentences of
  ``../shared/emotion-dev`` (RAVDESS; each has about 1 s of room tone around the sentence);
* **non-speech**: music, instrumentals, noise, tones and machine sounds synthesised by
  ``tests/synthetic_audio.py`` (5 s each).

A clip counts as speech when its speech ratio is at least 0.1 (under that the pipeline warns "no
speech detected"). Printed: each non-speech clip, each group's detection rate and mean ratio, and the
balanced accuracy (mean of the speech hit rate and the non-speech rejection rate).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench_media import DEFAULT_MEDIA  # noqa: E402
from emotion_dev import DEFAULT_DEV, load_manifest  # noqa: E402

from emi_core.features.voice import analyse_voice  # noqa: E402
from emi_core.media import AUDIO_SAMPLE_RATE, is_silent, load_clip  # noqa: E402
from emi_core.models.backend import AudioInput  # noqa: E402
from emi_core.models.prior import EMIPrior  # noqa: E402
from tests.synthetic_audio import NONSPEECH  # noqa: E402

SPEECH_THRESHOLD = 0.1


def judge(prior: EMIPrior, audio: np.ndarray) -> tuple[float, float]:
    """(speech ratio, largest audio-channel clip intensity) as the pipeline computes them."""
    voice = analyse_voice(audio, AUDIO_SAMPLE_RATE)
    ratio = float(voice.speech.mean()) if voice.speech.size else 0.0
    output = prior.predict_audio(AudioInput(audio, AUDIO_SAMPLE_RATE, voice))
    return ratio, float(np.max(output.clip)) if output is not None else 0.0


def report(name: str, results: list[tuple[float, float]], speech: bool) -> float:
    """Print one group's line; return its correct rate."""
    ratios = np.array([r for r, _ in results])
    peaks = np.array([p for _, p in results])
    detected = ratios >= SPEECH_THRESHOLD
    correct = float(detected.mean() if speech else (~detected).mean())
    print(
        f"{name:34s} {len(results):5d} {100 * correct:8.1f}% {ratios.mean():11.3f} {ratios.max():10.3f} "
        f"{peaks.mean():10.3f}"
    )
    return correct


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=Path, default=DEFAULT_MEDIA, help="test media folder (default: %(default)s)")
    parser.add_argument("--dev", type=Path, default=DEFAULT_DEV, help="emotion-dev folder (default: %(default)s)")
    parser.add_argument("--dev-limit", type=int, default=0, help="use only every N-th emotion-dev clip (0: all)")
    args = parser.parse_args()

    prior = EMIPrior()
    start = time.perf_counter()
    talking = [p for p in sorted(args.media.iterdir()) if "_talk_" in p.name or p.suffix == ".wav"]
    tracks = [load_clip(p, video=False).audio for p in talking]
    media_results = [judge(prior, track) for track in tracks if not is_silent(track)]
    dev = load_manifest(args.dev)
    if args.dev_limit > 1:
        dev = dev[:: args.dev_limit]
    dev_results = [judge(prior, clip.audio()) for clip in dev]
    other = {name: judge(prior, make()) for name, make in NONSPEECH.items()}

    print(f"{'non-speech clip':34s} {'speech ratio':>12s} {'max audio intensity':>20s}")
    for name, (ratio, peak) in other.items():
        print(f"{name:34s} {ratio:12.3f} {peak:20.3f}")
    print()
    print(f"{'group':34s} {'clips':>5s} {'correct':>9s} {'mean ratio':>11s} {'max ratio':>10s} {'mean peak':>10s}")
    hits = [
        report("speech: shared media", media_results, True),
        report("speech: emotion-dev", dev_results, True),
    ]
    speech_rate = float(np.average(hits, weights=[len(media_results), len(dev_results)]))
    reject = report("non-speech: synthetic", list(other.values()), False)
    print()
    print(
        f"speech detected {100 * speech_rate:.1f}%, non-speech rejected {100 * reject:.1f}%, "
        f"balanced accuracy {50 * (speech_rate + reject):.1f}%  ({time.perf_counter() - start:.0f} s)"
    )


if __name__ == "__main__":
    main()
