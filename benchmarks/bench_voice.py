"""Voice features: seconds of compute per second of audio, next to a lower bound.

For each shipped test clip with an audio track (decoded once, outside the timing), times
``analyse_voice`` + the pipeline's summaries (1 s windows, 0.5 s hop, and the whole clip), best of
``--repeats`` runs. The lower bound is the least any frame-level spectral analysis must do: slicing
the audio into the same 40 ms / 10 ms frames and one real FFT of all of them.

    python benchmarks/bench_voice.py [--media DIR] [--repeats N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from scipy import fft

from emi_core.features.voice import analyse_voice, summarise, windows
from emi_core.features.voice.framing import frame_audio
from emi_core.media import AUDIO_SAMPLE_RATE, SUPPORTED_EXTENSIONS, load_clip

DEFAULT_MEDIA = Path(__file__).resolve().parents[1] / "tests" / "data" / "media"


def features(audio: np.ndarray) -> None:
    """What the pipeline runs per clip: frame analysis, window summaries and the clip summary."""
    frames = analyse_voice(audio, AUDIO_SAMPLE_RATE)
    [summarise(frames, start, end) for start, end in windows(frames.duration_s)]
    summarise(frames)


def lower_bound(audio: np.ndarray) -> None:
    """Framing plus one real FFT of every frame."""
    fft.rfft(frame_audio(audio, AUDIO_SAMPLE_RATE), axis=1)


def best_time(function, audio: np.ndarray, repeats: int) -> float:
    function(audio)  # warm-up (imports, FFT plans)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(audio)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=Path, default=DEFAULT_MEDIA, help="folder of clips (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=20, help="timed runs per clip, best kept (default: %(default)s)")
    args = parser.parse_args()

    tracks = {}
    for path in sorted(args.media.iterdir()):
        if path.suffix.lower() in SUPPORTED_EXTENSIONS:
            audio = load_clip(path, video=False).audio
            if audio is not None:
                tracks[path.name] = audio
    tracks["(all clips concatenated)"] = np.concatenate(list(tracks.values()))

    columns = ("audio s", 8), ("ours ms", 8), ("bound ms", 9), ("ours s/s", 9), ("bound s/s", 10), ("ratio", 6)
    print(f"{'clip':48s} " + " ".join(f"{title:>{width}s}" for title, width in columns))
    for name, audio in tracks.items():
        seconds = len(audio) / AUDIO_SAMPLE_RATE
        ours = best_time(features, audio, args.repeats)
        bound = best_time(lower_bound, audio, args.repeats)
        print(
            f"{name:48s} {seconds:8.2f} {ours * 1e3:8.2f} {bound * 1e3:9.2f} "
            f"{ours / seconds:9.5f} {bound / seconds:10.5f} {ours / bound:6.1f}"
        )


if __name__ == "__main__":
    main()
