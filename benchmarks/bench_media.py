"""Seconds of decoding and of face tracking per second of video, on the shipped talking clips.

Usage:
    python benchmarks/bench_media.py [--fps 10] [--repeat 3] [--media DIR] [CLIP ...]

CLIP names files in the media folder (default: the talking clips shipped in tests/data/media).
Every figure is seconds of compute per second of video at ``--fps`` frames per
second sampled (lower is better), the best of ``--repeat`` runs:

* ``decode``: :func:`emi_core.media.iter_frames` alone (the lower bound of the whole pipeline);
* ``decode+faces``: ``track_faces(iter_frames(...))`` end to end, including MediaPipe's start-up;
* ``faces``: :class:`emi_core.faces.FaceTracker` alone on frames decoded beforehand (after ``reset``);
* ``mesh floor``: MediaPipe's FaceMesh alone, tracking one face, no conversion and no crop: the lower
  bound of face tracking; ``faces/floor`` is our overhead over it;
* ``naive x4``: MediaPipe's FaceMesh with ``max_num_faces=4``, which runs face detection on every
  frame with fewer than 4 faces: what counting up to 4 faces would cost without the census design.

The issue's target is ``faces`` <= 0.1 s per s of video at 10 fps. The machine may be shared with
other jobs: figures are indicative.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from emi_core.faces import FaceTracker, track_faces
from emi_core.media import iter_frames, open_media

DEFAULT_MEDIA = Path(__file__).resolve().parents[1] / "tests" / "data" / "media"
DEFAULT_CLIPS = (
    "cremad_1001_talk_angry_m.mp4",
    "cremad_1001_talk_neutral_m.mp4",
    "grid_brbk7n_talk_neutral_f.mp4",
    "grid_s1_bbaf2n_talk_neutral_m.mp4",
    "obama_weekly_address_talk_neutral_12s.mp4",
    "grid_two_faces_lbax4n_lbbc2a.mp4",
)
COLUMNS = ("decode", "decode+faces", "faces", "mesh floor", "naive x4")


def best_time(run: Callable[[], object], repeat: int, setup: Callable[[], object] | None = None) -> float:
    """Shortest wall time of ``repeat`` calls of ``run``, each after an untimed ``setup``."""
    times = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def raw_mesh_time(frames: list[np.ndarray], max_faces: int, repeat: int) -> float:
    """Best time of MediaPipe's FaceMesh alone over ``frames`` (graph started and warmed beforehand)."""
    import mediapipe as mp

    with mp.solutions.face_mesh.FaceMesh(max_num_faces=max_faces, refine_landmarks=True) as mesh:

        def run() -> None:
            for frame in frames:
                mesh.process(frame)

        run()
        return best_time(run, repeat, setup=mesh.reset)


def measure(path: Path, fps: float, repeat: int, tracker: FaceTracker) -> tuple[float, int, dict[str, float]]:
    """Video seconds, frames and seconds per column for one clip."""
    frames = [frame for _, frame in iter_frames(open_media(path), fps=fps)]
    seconds = {
        "decode": best_time(lambda: sum(1 for _ in iter_frames(open_media(path), fps=fps)), repeat),
        "decode+faces": best_time(lambda: track_faces(iter_frames(open_media(path), fps=fps)), repeat),
    }

    def run_tracker() -> None:
        for index, frame in enumerate(frames):
            tracker(frame, index / fps)

    seconds["faces"] = best_time(run_tracker, repeat, setup=tracker.reset)
    seconds["mesh floor"] = raw_mesh_time(frames, 1, repeat)
    seconds["naive x4"] = raw_mesh_time(frames, 4, repeat)
    return len(frames) / fps, len(frames), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clips", nargs="*", default=list(DEFAULT_CLIPS), help="clip file names in --media")
    parser.add_argument("--fps", type=float, default=10.0, help="frames per second sampled (default 10)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the best is kept (default 3)")
    parser.add_argument("--media", type=Path, default=DEFAULT_MEDIA, help="folder of the clips")
    args = parser.parse_args()

    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {args.fps:g} fps sampled, "
        f"best of {args.repeat}; s compute per s video; machine may be shared: indicative figures"
    )
    header = f"{'clip':44} {'video s':>7} {'frames':>6} " + " ".join(f"{c:>12}" for c in COLUMNS)
    print(header + f" {'faces/floor':>11} {'faces ms/frame':>14}")
    totals = dict.fromkeys(COLUMNS, 0.0)
    total_video = total_frames = 0
    with FaceTracker() as tracker:
        for name in args.clips:
            video_s, count, seconds = measure(args.media / name, args.fps, args.repeat, tracker)
            total_video += video_s
            total_frames += count
            for column in COLUMNS:
                totals[column] += seconds[column]
            print(
                f"{name:44} {video_s:7.1f} {count:6d} "
                + " ".join(f"{seconds[c] / video_s:12.4f}" for c in COLUMNS)
                + f" {seconds['faces'] / seconds['mesh floor']:11.2f} {1000 * seconds['faces'] / count:14.2f}"
            )
    print(
        f"{'ALL':44} {total_video:7.1f} {total_frames:6d} "
        + " ".join(f"{totals[c] / total_video:12.4f}" for c in COLUMNS)
        + f" {totals['faces'] / totals['mesh floor']:11.2f} {1000 * totals['faces'] / total_frames:14.2f}"
    )
    verdict = "meets" if totals["faces"] / total_video <= 0.1 else "MISSES"
    print(
        f"# face tracking: {totals['faces'] / total_video:.3f} s per s of video at {args.fps:g} fps: "
        f"{verdict} the target of 0.1"
    )


if __name__ == "__main__":
    main()
