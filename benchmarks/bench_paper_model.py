"""Feature extraction cost of the paper's model per second of video, next to its lower bounds.

Usage:
    python benchmarks/bench_paper_model.py [--fps 30 10] [--threads 1] [--repeat 2] [--device cpu] [CLIP]

Backbones have random weights in the real architectures (torchvision ResNet18; Wav2Vec2-base: 12
layers of 768, last layer), so the compute is that of the real ones. Default clip: the 12 s Obama
address (one face, speech). Per frame rate, in seconds of compute per second of video (best of
``--repeat``):

* ``extract``: :meth:`Extractors.extract` on the file, both channels — what ``emi extract`` spends
  per video in one worker (decode once, face tracking, AUs, ResNet18 in batches, Wav2Vec2);
* ``resnet`` / ``resnet bare``: our embedder on the clip's face crops (uint8 → normalised → batched
  forward) / the network's forward alone on the same, already normalised batches (the two are run
  alternately, as are the two ``w2v`` columns, so that the shared machine's load hits both alike);
* ``w2v`` / ``w2v bare``: our Wav2Vec2 features of the clip's audio (peak normalisation,
  standardisation, chunks, layer) / ``model(input_values)`` alone on the whole waveform;
* ``bound``: decode (frames + audio) + MediaPipe FaceMesh alone + ``resnet bare`` + ``w2v bare``,
  the sum of the unavoidable parts; ``ratio`` = extract / bound (target ≤ 1.3).

Projection: hours to extract the 17,246 challenge videos, ASSUMING 12 s per video on average (no
figure is published with the data; the projection is linear in it), for one worker with
``--threads`` torch threads on this machine, and for 8 such workers on a machine with ≥ 8 free
cores (``--workers 8``; linear scaling assumed, each worker using one core).
"""

from __future__ import annotations

import argparse
import platform
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from bench_media import DEFAULT_MEDIA, best_time, raw_mesh_time

from emi_core.faces import track_faces
from emi_core.features.extract import Extractors
from emi_core.media import iter_frames, open_media, read_audio

CHALLENGE_VIDEOS = 17_246
ASSUMED_SECONDS_PER_VIDEO = 12.0
WORKERS = 8
DEFAULT_CLIP = "obama_weekly_address_talk_neutral_12s.mp4"
COLUMNS = ("extract", "resnet", "resnet bare", "w2v", "w2v bare", "bound", "ratio")


def decode(path: Path, fps: float) -> int:
    """Frames at ``fps`` and the audio through ffmpeg, nothing else (the decode lower bound)."""
    source = open_media(path)
    count = sum(1 for _ in iter_frames(source, fps))
    read_audio(source)
    return count


def paired(ours: Callable[[], object], bare: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best times of ``ours`` and ``bare``, run alternately so that a change in load hits both alike."""
    times = [(best_time(ours, 1), best_time(bare, 1)) for _ in range(repeat)]
    return min(t[0] for t in times), min(t[1] for t in times)


def resnet_runs(extractors: Extractors, crops: np.ndarray) -> tuple[Callable[[], object], Callable[[], object]]:
    """Our embedder on ``crops``, and the network's forward alone on the same pre-normalised batches."""
    embedder = extractors.by_channel["visual"].embedder
    batches = [
        embedder.preprocess(crops[i : i + embedder.batch_size]) for i in range(0, len(crops), embedder.batch_size)
    ]

    def bare() -> None:
        with torch.inference_mode():
            for batch in batches:
                embedder.network(batch)

    return lambda: embedder(crops), bare


def wav2vec2_runs(extractors: Extractors, waveform: np.ndarray) -> tuple[Callable[[], object], Callable[[], object]]:
    """Our features of ``waveform``, and ``model(input_values)`` alone on the whole prepared waveform."""
    audio = extractors.by_channel["audio"]
    inputs = torch.from_numpy(audio.wav2vec2.prepare(waveform))[None].to(audio.wav2vec2.device)

    def bare() -> None:
        with torch.inference_mode():
            audio.wav2vec2.model(inputs)

    return lambda: audio.from_waveform(waveform), bare


def measure(extractors: Extractors, path: Path, fps: float, repeat: int) -> tuple[float, dict[str, float]]:
    """Video seconds and seconds per column at ``fps``."""
    extractors.by_channel["visual"].fps = fps
    frames = [frame for _, frame in iter_frames(open_media(path), fps)]
    crops = track_faces(((i / fps, f) for i, f in enumerate(frames)), crop_size=112).crops_array()
    waveform = read_audio(open_media(path))
    seconds = {
        "extract": best_time(lambda: dict(extractors.extract(path)), repeat),
        "decode": best_time(lambda: decode(path, fps), repeat),
        "mesh": raw_mesh_time(frames, max_faces=1, repeat=repeat),
    }
    seconds["resnet"], seconds["resnet bare"] = paired(*resnet_runs(extractors, crops), repeat)
    seconds["w2v"], seconds["w2v bare"] = paired(*wav2vec2_runs(extractors, waveform), repeat)
    seconds["bound"] = seconds["decode"] + seconds["mesh"] + seconds["resnet bare"] + seconds["w2v bare"]
    return len(frames) / fps, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", nargs="?", default=str(DEFAULT_MEDIA / DEFAULT_CLIP))
    parser.add_argument("--fps", type=float, nargs="+", default=[30.0, 10.0])
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads (emi extract gives each worker cores // workers)"
    )
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    path = Path(args.clip)
    extractors = Extractors.from_options(visual_backbone="random", audio_backbone="random", device=args.device)
    dict(extractors.extract(path))  # warm up: MediaPipe graphs, first-call allocations
    print(f"{platform.processor() or platform.machine()}, {args.threads} torch thread(s), device {args.device}; "
          f"clip {path.name}; random ResNet18 + Wav2Vec2-base (12 x 768) weights")
    print("seconds of compute per second of video (indicative: the machine is shared)")
    print(f"{'fps':>5}" + "".join(f"{c:>13}" for c in COLUMNS) + f"{'mesh':>9}{'decode':>9}")
    for fps in args.fps:
        duration, seconds = measure(extractors, path, fps, args.repeat)
        per = {k: v / duration for k, v in seconds.items()}
        per["ratio"] = seconds["extract"] / seconds["bound"]
        print(f"{fps:>5g}" + "".join(f"{per[c]:>13.3f}" for c in COLUMNS) + f"{per['mesh']:>9.3f}{per['decode']:>9.3f}")
        print(f"      ours / bare: resnet {seconds['resnet'] / seconds['resnet bare']:.2f}x, "
              f"wav2vec2 {seconds['w2v'] / seconds['w2v bare']:.2f}x")
        hours = per["extract"] * ASSUMED_SECONDS_PER_VIDEO * CHALLENGE_VIDEOS / 3600
        print(
            f"      {CHALLENGE_VIDEOS:,} videos x {ASSUMED_SECONDS_PER_VIDEO:g} s (assumed): "
            f"{hours:.1f} h in one worker, "
            f"{hours / WORKERS:.1f} h with {WORKERS} workers on >= {WORKERS} free cores"
        )
    extractors.close()


if __name__ == "__main__":
    main()
