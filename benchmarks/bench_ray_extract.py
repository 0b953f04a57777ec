"""The Ray engine of ``emi extract`` against the local engine: overhead, scaling, and a corpus projection.

Usage:
    python benchmarks/bench_ray_extract.py [--videos 6] [--fps 10] [--repeat 1] [CLIP]

The same ``--videos`` copies of CLIP (default: the shipped 12 s address, one face, speech) are
extracted into a fresh cache by each engine with 1 and then 2 workers, both channels, backbones with
random weights in the real architectures (torchvision ResNet18, Wav2Vec2-base), on the CPU. Each
figure is the wall time of :func:`~emi_core.features.batch.extract_videos` (worker start-up and
backbone loading included; the best of ``--repeat``), runs alternating between the engines so that
the shared machine's load hits both alike. The private Ray instance is started once, before any
timing (its start-up is printed apart: a cluster is started once for many runs).

* ``ray / local``: the Ray engine's overhead at the same worker count (goal ≤ 1.1×);
* ``1 → 2 workers``: each engine's speed-up (this machine has the cores it reports);
* the peak resident memory of one worker process (backbones loaded, one video extracted).

Projection for the 17,246 challenge videos, ASSUMING 12 s per video on average (no figure is
published with the data; the projection is linear in it):

* CPU workers: from the Ray engine's measured seconds per video-second with 1 worker (using this
  machine's cores), scaled linearly to N such workers;
* GPU workers: NOT MEASURED (no GPU here). A lower bound only: with the backbones on a GPU a worker
  still decodes the video and tracks the face on its CPU, so its time per video-second is at least
  the measured ``decode + face tracking`` share of one core; N such workers (each with its own core
  and a share of a GPU) cannot go faster than that.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

from bench_media import DEFAULT_MEDIA

from emi_core.faces import track_faces
from emi_core.features.batch import ExtractionRun, RayCluster, extract_videos
from emi_core.features.batch.local import available_cores
from emi_core.features.cache import FeatureCache
from emi_core.features.extract import Extractors
from emi_core.media import iter_frames, open_media
from emi_core.native_logs import quiet_native_stderr

CHALLENGE_VIDEOS = 17_246
ASSUMED_SECONDS_PER_VIDEO = 12.0
DEFAULT_CLIP = "obama_weekly_address_talk_neutral_12s.mp4"
PROJECTED_WORKERS = (8, 32, 128)


def timed_run(videos: list[tuple[str, Path]], specs, workers: int, cluster: RayCluster | None, root: Path) -> float:
    """Wall time of one extraction of ``videos`` into a fresh cache."""
    cache_dir = Path(tempfile.mkdtemp(dir=root, prefix="cache-"))
    run = ExtractionRun(workers=workers, progress=False, log=lambda line: None, cluster=cluster)
    start = time.perf_counter()
    result = extract_videos(videos, FeatureCache(cache_dir), specs, run)
    seconds = time.perf_counter() - start
    assert result.extracted == len(videos) and not result.failures, result.failures
    shutil.rmtree(cache_dir)
    return seconds


def peak_rss_of_one_worker(video: tuple[str, Path], specs, root: Path) -> float:
    """Peak resident memory (bytes) of a fresh process that loads the backbones and extracts one video."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(_extract_one, (video, specs, root))


def _extract_one(video: tuple[str, Path], specs, root: Path) -> float:
    import resource

    timed_run([video], specs, 1, None, root)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024.0  # KiB on Linux


def cpu_share(path: Path, fps: float) -> float:
    """Seconds of decoding + face tracking (what stays on the CPU with GPU backbones) in one process."""
    start = time.perf_counter()
    track_faces(iter_frames(open_media(path), fps), crop_size=112)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", nargs="?", default=str(DEFAULT_MEDIA / DEFAULT_CLIP))
    parser.add_argument("--videos", type=int, default=6)
    parser.add_argument("--fps", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    quiet_native_stderr()  # MediaPipe's native log lines

    import ray

    clip = Path(args.clip)
    duration = open_media(clip).info.duration_s
    root = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    try:
        folder = root / "videos"
        folder.mkdir()
        videos = []
        for index in range(args.videos):
            target = folder / f"{index + 1:05d}{clip.suffix}"
            shutil.copy(clip, target)
            videos.append((target.stem, target))
        extractors = Extractors.from_options(visual_backbone="random", audio_backbone="random", fps=args.fps)
        specs = extractors.specs
        extractors.close()
        del extractors

        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        start = time.perf_counter()
        ray.init(address="local", num_cpus=available_cores(), include_dashboard=False,
                 object_store_memory=100_000_000, log_to_driver=False, logging_level="ERROR")
        ray_start = time.perf_counter() - start
        print(f"{platform.processor() or platform.machine()}, {available_cores()} cores (shared with other jobs: "
              f"figures are indicative); {args.videos} x {clip.name} ({duration:.1f} s) at {args.fps:g} fps, "
              "random ResNet18 + Wav2Vec2-base, CPU")
        print(f"private Ray instance started in {ray_start:.1f} s (not counted below); "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        try:
            times: dict[tuple[str, int], list[float]] = {}
            for _ in range(args.repeat):
                for workers in (1, 2):
                    for engine, cluster in (("local", None), ("ray", RayCluster())):
                        seconds = timed_run(videos, specs, workers, cluster, root)
                        times.setdefault((engine, workers), []).append(seconds)
        finally:
            ray.shutdown()
        print(f"load average after the runs: {os.getloadavg()[0]:.1f} (above the core count, other jobs compete)")
        best = {key: min(values) for key, values in times.items()}
        video_seconds = duration * args.videos
        print(f"{'workers':>8}{'local s':>10}{'ray s':>10}{'ray / local':>13}{'s per video-s (ray)':>22}")
        for workers in (1, 2):
            local, on_ray = best[("local", workers)], best[("ray", workers)]
            print(f"{workers:>8}{local:>10.1f}{on_ray:>10.1f}{on_ray / local:>12.2f}x{on_ray / video_seconds:>22.3f}")
        for engine in ("local", "ray"):
            print(f"1 -> 2 workers speed-up, {engine}: {best[(engine, 1)] / best[(engine, 2)]:.2f}x")

        corpus_s = CHALLENGE_VIDEOS * ASSUMED_SECONDS_PER_VIDEO
        per_worker = best[("ray", 1)] / video_seconds  # one worker with all this machine's cores
        floor = min(cpu_share(clip, args.fps) for _ in range(max(1, args.repeat))) / duration
        print(f"projection, {CHALLENGE_VIDEOS:,} videos x {ASSUMED_SECONDS_PER_VIDEO:g} s (assumed), {args.fps:g} fps:")
        print(f"  CPU workers like the 1-worker Ray run here ({available_cores()} threads, measured {per_worker:.3f} s "
              "per video-s; linear scaling assumed): "
              + ", ".join(f"{n} workers {corpus_s * per_worker / n / 3600:.2f} h" for n in PROJECTED_WORKERS))
        print(f"  GPU workers: not measured (no GPU here); lower bound from the CPU share that stays on each "
              f"worker's core (decode + face tracking, {floor:.3f} s per video-s): "
              + ", ".join(f"{n} workers >= {corpus_s * floor / n / 3600:.2f} h" for n in PROJECTED_WORKERS))
        rss = peak_rss_of_one_worker(videos[0], specs, root)
        print(f"one worker (ResNet18 + Wav2Vec2-base on the CPU, one {duration:.0f} s video): "
              f"peak resident memory {rss / 2**20:.0f} MiB")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
