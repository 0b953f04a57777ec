"""Live mode: the cost of one update, and the update rate it allows, next to the bare face mesh + CNN.

Usage:
    python benchmarks/bench_live.py [--repeat 3] [--media DIR] [CLIP ...]

For each clip (default: the shipped talking clips), its frames at 10 fps are fed one by one to
:class:`emi_core.live.LiveAnalyser` (as the webcam stream does) and its audio in 0.25 s chunks (as the
microphone stream does). Per update, in milliseconds (median and 95th percentile of the best of
``--repeat`` passes):

* ``live frame``: ``LiveAnalyser.add_frame`` — face tracker, expression CNN on the new crop, AUs over
  the face window, the prior's table, fusion, the rolling history;
* ``bare``: MediaPipe FaceMesh alone on the same frame + the expression CNN on one crop (the
  unavoidable part, torch on one thread as in live mode); ``ratio`` = live frame / bare (medians);
* ``live audio``: ``LiveAnalyser.add_audio`` of one 0.25 s chunk (voice analysis of the last 3 s);
* ``rate``: updates per second one core sustains when the tab streams 5 frames and 4 audio chunks a
  second (its settings): ``9 / (5 × live frame + 4 × live audio)``, from the medians.

The live tab needs >= 3 updates per second on 2 cores (issue 13).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
from bench_media import DEFAULT_MEDIA

from emi_core.faces import FaceTracker
from emi_core.live import LiveAnalyser, one_torch_thread
from emi_core.media import AUDIO_SAMPLE_RATE, iter_frames, open_media, read_audio
from emi_core.models.prior import EMIPrior

DEFAULT_CLIPS = ("cremad_1001_talk_happy_m.mp4", "grid_s1_bbaf2n_talk_neutral_m.mp4")
FPS = 10.0
CHUNK_S = 0.25


def timed(run, items) -> np.ndarray:
    """Milliseconds of ``run(i, item)`` for each item."""
    out = []
    for i, item in enumerate(items):
        start = time.perf_counter()
        run(i, item)
        out.append(1000 * (time.perf_counter() - start))
    return np.array(out)


def bare_pass(prior: EMIPrior, frames: list[np.ndarray]) -> np.ndarray:
    """FaceMesh on each frame, then the CNN on that frame's crop (the tracker's crop, made untimed)."""
    import mediapipe as mp

    with FaceTracker(crop_size=prior.crop_size, grayscale=True) as tracker:
        crops = [tracker(frame, i / FPS).crop for i, frame in enumerate(frames)]
    with mp.solutions.face_mesh.FaceMesh(max_num_faces=1, refine_landmarks=True) as mesh:
        mesh.process(frames[0])

        def run(i, frame):
            mesh.process(frame)
            if crops[i] is not None:
                prior.expression_cnn.predict(crops[i][None])

        with one_torch_thread():  # the live analyser's setting for one crop, so the ratio is like for like
            return timed(run, frames)


def live_pass(prior: EMIPrior, frames: list[np.ndarray], chunks: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    with LiveAnalyser(prior) as live:
        live.add_frame(frames[0], 0.0)  # warm the tracker's graph, as the bare pass does
        video = timed(lambda i, frame: live.add_frame(frame, (i + 1) / FPS), frames)
        audio = timed(lambda i, chunk: live.add_audio(chunk, AUDIO_SAMPLE_RATE, i * CHUNK_S), chunks)
    return video, audio


def best(passes: list[np.ndarray]) -> np.ndarray:
    return min(passes, key=np.median)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="*", default=list(DEFAULT_CLIPS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--media", type=Path, default=DEFAULT_MEDIA)
    args = parser.parse_args()
    prior = EMIPrior()
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, best of {args.repeat}; "
        "ms per update (median / p95); machine may be shared: indicative figures"
    )
    print(f"{'clip':36} {'live frame':>14} {'bare':>14} {'ratio':>6} {'live audio':>14} {'rate /s':>8}")
    for name in args.clips:
        source = open_media(args.media / name)
        frames = [frame for _, frame in iter_frames(source, FPS)]
        waveform = read_audio(source)
        step = int(CHUNK_S * AUDIO_SAMPLE_RATE)
        chunks = [waveform[i : i + step] for i in range(0, len(waveform), step)] if waveform is not None else []
        runs, bares = [], []
        for _ in range(args.repeat):  # interleaved, so that a change in the machine's load hits both
            runs.append(live_pass(prior, frames, chunks))
            bares.append(bare_pass(prior, frames))
        video = best([v for v, _ in runs])
        audio = best([a for _, a in runs]) if chunks else np.zeros(1)
        bare = best(bares)
        # the tab streams frames at 5/s and audio chunks at 4/s: one second of both costs this much
        busy_ms = 5 * np.median(video) + 4 * np.median(audio)
        rate = 9 * 1000 / busy_ms
        print(
            f"{name:36} {np.median(video):6.1f} / {np.percentile(video, 95):5.1f} "
            f"{np.median(bare):6.1f} / {np.percentile(bare, 95):5.1f} {np.median(video) / np.median(bare):6.2f} "
            f"{np.median(audio):6.1f} / {np.percentile(audio, 95):5.1f} {rate:8.1f}"
        )


if __name__ == "__main__":
    main()
