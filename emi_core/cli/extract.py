"""``emi extract``: per-video features of the paper's model into a feature cache (parallel, resumable)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from emi_core.channels import CHANNELS, PAPER_CHANNELS
from emi_core.cli.media_options import add_media_options, limits_from_args, positive
from emi_core.device import DEVICES, resolve_device
from emi_core.errors import ConfigError
from emi_core.features.backbones import DEFAULT_AUDIO_BACKBONE

ENGINES: tuple[str, ...] = ("local", "ray")

SHOWN = 10
"""Failures printed on the terminal (all are in failures.csv)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``extract`` command."""
    parser = subparsers.add_parser(
        "extract",
        help="extract visual (ResNet18 + AUs) and audio (Wav2Vec2) features of a split into a cache",
        description=(
            "Write one features file per video and extractor into --cache "
            "({cache}/{extractor}-{config hash}/{id}.npz). "
            "Videos already extracted are skipped, so an interrupted run resumes; a video that fails is listed "
            "in {cache}/failures.csv and the others go on (exit code 2 if any failed)."
        ),
    )
    parser.add_argument("--videos", required=True, help="folder of videos named {Filename}.mp4 (other extensions too)")
    parser.add_argument("--split", required=True, action="append", metavar="CSV",
                        help="split CSV with a Filename column (repeat for several splits)")
    parser.add_argument("--cache", required=True, help="feature cache folder")
    parser.add_argument(
        "--channels",
        default=",".join(PAPER_CHANNELS),
        help=f"comma-separated channels, some of {','.join(CHANNELS)} (default: %(default)s)",
    )
    parser.add_argument("--visual-backbone", metavar="PATH_OR_HUB_ID",
                        help="ResNet18: a torchvision .pth state dict, a timm / Hugging Face folder or Hub id, "
                             "or 'random' (tests only); required for the visual channel")
    parser.add_argument("--visual-input-size", type=int, default=112, metavar="PX",
                        help="feed the 112 px face crops to the ResNet at this size (default: %(default)s, no resize)")
    parser.add_argument("--audio-backbone", default=DEFAULT_AUDIO_BACKBONE, metavar="PATH_OR_HUB_ID",
                        help="Wav2Vec2 Hub id or save_pretrained folder, or 'random' / 'random:CONFIG' (tests only) "
                             "(default: %(default)s)")
    parser.add_argument("--audio-layer", type=int, default=None, metavar="N",
                        help="hidden-state layer, 0 to the number of layers (default: the last)")
    parser.add_argument("--asr", default="default", metavar="NAME_OR_PATH",
                        help="text channel: Whisper model for the transcript, a faster-whisper name (large-v3, "
                             "distil-large-v3), a Hub id or a CTranslate2 folder (default: the shipped tiny.en)")
    parser.add_argument("--text-backbone", default="default", metavar="PATH_OR_HUB_ID",
                        help="text channel: sentence encoder of the transcript, a sentence-transformers or "
                             "transformers folder or Hub id (default: the shipped all-MiniLM-L6-v2)")
    parser.add_argument("--fps", type=positive(float), default=30.0,
                        help="frames per second analysed (default: %(default)s, the paper's)")
    parser.add_argument("--workers", type=positive(int), default=1,
                        help="parallel workers, each loading the backbones once (default: %(default)s)")
    parser.add_argument("--device", choices=DEVICES, default="auto",
                        help="default: %(default)s (with --engine ray: CUDA if the Ray cluster has GPUs)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    engine = parser.add_argument_group(
        "engine", "--engine ray runs the workers as Ray actors: the cache and the videos must then be on "
                  "storage every node mounts at the same path (checked before any work)"
    )
    engine.add_argument("--engine", choices=ENGINES, default="local",
                        help="local: a process pool on this machine; ray: Ray actors (pip install -e '.[ray]') "
                             "(default: %(default)s)")
    engine.add_argument("--address", metavar="ADDR|auto",
                        help="Ray cluster to join: 'auto' (the one this machine joined with ray start), HOST:PORT "
                             "or ray://HOST:10001 (default: a private Ray instance on this machine)")
    engine.add_argument("--gpus-per-worker", type=positive(float, 0), metavar="F",
                        help="GPUs each Ray worker reserves; 0.25 puts four workers on a GPU "
                             "(default: 1 on CUDA, else 0)")
    engine.add_argument("--cpus-per-worker", type=positive(float), metavar="F",
                        help="CPUs (and torch threads) each Ray worker reserves "
                             "(default: this machine's cores / --workers for a private instance, else 1)")
    engine.add_argument("--retries", type=positive(int, 0), default=2, metavar="N",
                        help="extract a video again at most N times when its Ray worker dies (default: %(default)s)")
    add_media_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Extract every listed video not yet in the cache; exit code 2 if any failed."""
    from emi_core.features.batch import FAILURES_FILE, ExtractionRun, extract_split
    from emi_core.features.extract import Extractors

    cluster = _cluster(args)
    # Ray workers pick their own device (the cluster's GPUs); this process only describes the features
    device = resolve_device(args.device) if cluster is None else args.device
    limits = limits_from_args(args)
    run = ExtractionRun(
        workers=args.workers,
        device=device,
        limits=limits,
        progress=False if args.no_progress else None,
        cluster=cluster,
    )
    channels = [c.strip() for c in args.channels.split(",") if c.strip()]
    if "visual" in channels and not args.visual_backbone:
        raise ConfigError(
            "the visual channel needs a backbone: pass --visual-backbone PATH_OR_HUB_ID (a ResNet18 state dict, "
            "a timm or Hugging Face ResNet folder or its Hub id, or 'random' for tests), or --channels audio"
        )
    extractors = Extractors.from_options(
        channels,
        visual_backbone=args.visual_backbone,
        audio_backbone=args.audio_backbone,
        audio_layer=args.audio_layer,
        asr=args.asr,
        text_backbone=args.text_backbone,
        fps=args.fps,
        input_size=args.visual_input_size,
        max_side=limits.max_side,
        device=device if cluster is None else "cpu",
    )
    if run.workers == 1 and cluster is None:
        try:
            result = extract_split(args.videos, args.split, args.cache, extractors, run)
        finally:
            extractors.close()
    else:  # each worker loads its own copy: free this one
        specs = extractors.specs
        extractors.close()
        del extractors
        result = extract_split(args.videos, args.split, args.cache, specs, run)
    print(result.summary())
    if not result.failures:
        return 0
    for failure in result.failures[:SHOWN]:
        print(f"failed {failure.id}: {failure.error}", file=sys.stderr)
    listed = Path(args.cache) / FAILURES_FILE
    print(f"{len(result.failures)} video(s) failed; all are listed in {listed}", file=sys.stderr)
    return 2


def _cluster(args: argparse.Namespace):
    """The :class:`RayCluster` of ``--engine ray``, or ``None``; Ray options without it are a usage error."""
    from emi_core.errors import ConfigError
    from emi_core.features.batch import RayCluster

    ray_only = {"--address": args.address, "--gpus-per-worker": args.gpus_per_worker,
                "--cpus-per-worker": args.cpus_per_worker}
    if args.engine == "local":
        given = [flag for flag, value in ray_only.items() if value is not None]
        if given:
            raise ConfigError(f"{', '.join(given)} only apply with --engine ray")
        return None
    return RayCluster(address=args.address, gpus_per_worker=args.gpus_per_worker,
                      cpus_per_worker=args.cpus_per_worker, retries=args.retries)
