"""End-to-end cost of ``emi predict`` (EMI prior) per second of video, next to its parts' lower bounds.

Usage:
    python benchmarks/bench_pipeline.py [--repeat 3] [--media DIR] [CLIP ...]

For each clip (default: the shipped talking clips) at the model's analysis rate (10 fps), the best of
``--repeat`` runs, in seconds of compute per second of video:

* ``pipeline``: ``EMIPipeline(path)`` end to end (decode, face tracking, AUs, expression CNN, voice,
  mapping, fusion), model loaded once beforehand — what ``emi predict`` spends per clip;
* ``decode``: frames at 10 fps + 16 kHz audio through ffmpeg, nothing else;
* ``mesh``: MediaPipe FaceMesh alone on the decoded frames (tracking one face);
* ``cnn``: the expression CNN's forward pass alone on the clip's face crops (one batch);
* ``bound``: decode + mesh + cnn, the sum of the lower bounds; ``ratio`` = pipeline / bound.

Targets (issue 5, this 2-core machine): pipeline <= 0.25 s per s of video and ratio <= 1.5.
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

from bench_media import DEFAULT_CLIPS, DEFAULT_MEDIA, best_time, raw_mesh_time

from emi_core.faces import track_faces
from emi_core.media import iter_frames, open_media, read_audio
from emi_core.pipeline import EMIPipeline

COLUMNS = ("pipeline", "decode", "mesh", "cnn", "bound", "ratio")


def decode(path: Path, fps: float) -> None:
    """Decode frames at ``fps`` and the audio, as the pipeline does (the decode lower bound)."""
    source = open_media(path)
    for _ in iter_frames(source, fps):
        pass
    read_audio(source)


def measure(pipeline: EMIPipeline, path: Path, repeat: int) -> tuple[float, dict[str, float]]:
    """Video duration and seconds per column for one clip."""
    fps = pipeline.fps
    frames = [frame for _, frame in iter_frames(open_media(path), fps)]
    crops = track_faces(((i / fps, f) for i, f in enumerate(frames)), crop_size=64, grayscale=True).crops_array()
    cnn = pipeline.backend.expression_cnn
    seconds = {
        "pipeline": best_time(lambda: pipeline(path), repeat),
        "decode": best_time(lambda: decode(path, fps), repeat),
        "mesh": raw_mesh_time(frames, max_faces=1, repeat=repeat),
        "cnn": best_time(lambda: cnn.predict(crops), repeat) if len(crops) else 0.0,
    }
    seconds["bound"] = seconds["decode"] + seconds["mesh"] + seconds["cnn"]
    return len(frames) / fps, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="*", default=list(DEFAULT_CLIPS))
    parser.add_argument("--media", type=Path, default=DEFAULT_MEDIA)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    pipeline = EMIPipeline.from_pretrained("default")
    pipeline(args.media / args.clips[0])  # warm-up: MediaPipe graph, torch kernels
    print(f"# {platform.processor() or platform.machine()}, analysis rate {pipeline.fps:g} fps, best of {args.repeat}")
    print(f"{'clip':<44}{'video s':>8}" + "".join(f"{c:>10}" for c in COLUMNS))
    total_video, totals = 0.0, dict.fromkeys(COLUMNS[:-1], 0.0)
    for name in args.clips:
        video, seconds = measure(pipeline, args.media / name, args.repeat)
        total_video += video
        for column in totals:
            totals[column] += seconds[column]
        row = [seconds[c] / video for c in COLUMNS[:-1]] + [seconds["pipeline"] / seconds["bound"]]
        print(f"{name:<44}{video:>8.1f}" + "".join(f"{v:>10.3f}" for v in row))
    overall = [totals[c] / total_video for c in COLUMNS[:-1]] + [totals["pipeline"] / totals["bound"]]
    print(f"{'ALL':<44}{total_video:>8.1f}" + "".join(f"{v:>10.3f}" for v in overall))
    per_second, ratio = overall[0], overall[-1]
    print(
        f"# pipeline: {per_second:.3f} s per s of video (target 0.25: {'met' if per_second <= 0.25 else 'NOT met'}); "
        f"{ratio:.2f}x the sum of the lower bounds (target 1.5: {'met' if ratio <= 1.5 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
