"""``emi predict-split``: a challenge submission CSV for a list of ids, from a trained paper checkpoint."""

from __future__ import annotations

import argparse
import sys

from emi_core.cli.media_options import add_media_options, limits_from_args
from emi_core.device import DEVICES, resolve_device

SHOWN = 10


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``predict-split`` command."""
    parser = subparsers.add_parser(
        "predict-split",
        help="write a challenge submission CSV for a split with a trained checkpoint (uses the feature cache)",
        description=(
            "Predict the fused intensities of every id in --ids and write them as a challenge CSV. Features come "
            "from --cache when it holds them for the checkpoint's extractors, else they are extracted (and kept in "
            "--cache if given). If some video has no prediction (failed, or no face and no audio), --out is not "
            "written: the predicted rows go to {stem}.incomplete.csv, the others to {stem}.missing.csv, exit code 2."
        ),
    )
    parser.add_argument(
        "--model", required=True, help="checkpoint folder or Hugging Face Hub id (written by emi train)"
    )
    parser.add_argument("--videos", required=True, help="folder of videos named {Filename}.mp4 (other extensions too)")
    parser.add_argument("--ids", required=True, metavar="CSV", help="CSV with a Filename column: the videos to predict")
    parser.add_argument("--out", required=True, metavar="OUT.csv", help="submission CSV to write")
    parser.add_argument("--cache", help="feature cache folder to read from and extract into (default: a temporary one)")
    parser.add_argument("--visual-backbone", metavar="PATH",
                        help="where the checkpoint's visual backbone is, if not at its recorded place (sha256 checked)")
    parser.add_argument("--audio-backbone", metavar="PATH",
                        help="where the checkpoint's audio backbone is, if not at its recorded place (sha256 checked)")
    parser.add_argument("--workers", type=int, default=1, help="parallel extraction processes (default: %(default)s)")
    parser.add_argument("--device", choices=DEVICES, default="auto", help="default: %(default)s")
    parser.add_argument("--batch-size", type=int, default=16, help="regressor batch size (default: %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_media_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Predict, write the CSV; exit code 2 (and no --out) if any id has no prediction."""
    from emi_core.features.batch import ExtractionRun
    from emi_core.submission import predict_split

    backbones = {c: p for c, p in (("visual", args.visual_backbone), ("audio", args.audio_backbone)) if p}
    run = ExtractionRun(
        workers=args.workers,
        device=resolve_device(args.device),
        limits=limits_from_args(args),
        backbones=backbones,
        progress=False if args.no_progress else None,
    )
    result = predict_split(
        args.model, args.videos, args.ids, args.out, run, cache=args.cache, batch_size=args.batch_size
    )
    if result.untrained:
        print(
            "warning: this checkpoint's backbones have random weights: its outputs are not predictions", file=sys.stderr
        )
    if result.complete:
        print(f"wrote {result.written}: {len(result.ids)} rows")
        return 0
    missing = list(result.missing.items())
    for video_id, reason in missing[:SHOWN]:
        print(f"no prediction for {video_id}: {reason}", file=sys.stderr)
    if len(missing) > SHOWN:
        print(f"... and {len(missing) - SHOWN} more", file=sys.stderr)
    print(
        f"{len(missing)} of {len(result.ids)} videos have no prediction, so {args.out} was NOT written "
        f"(a submission needs every row); wrote {result.written} ({len(result.ids) - len(missing)} rows) "
        f"and the list of missing ids beside it",
        file=sys.stderr,
    )
    return 2
