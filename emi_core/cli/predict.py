"""``emi predict PATH...``: estimate the six intensities of clips (JSON, challenge CSV, timelines)."""

from __future__ import annotations

import argparse
import json
import sys

from emi_core.channels import ROWS
from emi_core.cli.media_options import add_media_options, limits_from_args, positive
from emi_core.emotions import EMOTIONS
from emi_core.prediction import BatchPrediction, collect_clips, predict_clips


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``predict`` command."""
    parser = subparsers.add_parser("predict", help="estimate mimicry intensities of clips or a folder of clips")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="video/audio files or folders of them")
    parser.add_argument(
        "--model",
        default=None,
        help="'default' (offline EMI prior), a checkpoint folder or a hub id (default: $EMI_MODEL or 'default')",
    )
    parser.add_argument("--fps", type=positive(float), default=None,
                        help="frames per second to analyse (default: the model's)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON (an array for several clips)")
    parser.add_argument("--csv", metavar="OUT.csv", help="write a challenge-format CSV (Filename = file stem)")
    parser.add_argument("--timeline-dir", metavar="DIR", help="write one timeline CSV per clip into DIR")
    parser.add_argument(
        "--annotate",
        metavar="DIR",
        help="write <stem>.annotated.mp4 per video into DIR: the clip with its fused intensities drawn on it",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_media_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Predict every clip; failures are reported and the rest go on (exit code 2 if any failed)."""
    from emi_core.pipeline import EMIPipeline

    clips = collect_clips(args.paths)
    pipeline = EMIPipeline.from_pretrained(args.model, limits=limits_from_args(args), fps=args.fps)
    model = pipeline.model
    if not model.is_prediction:
        if args.csv:
            print(
                f"error: {model.name} has random weights: its outputs are not predictions, "
                f"so no challenge CSV is written (--csv {args.csv})",
                file=sys.stderr,
            )
            return 2
        if args.json:
            print(f"warning: {model.name} has random weights — not a prediction: {UNTRAINED_NOTE}", file=sys.stderr)
    # one clip's progress only on a terminal: its error stays the one line of a log
    show = not args.no_progress and (len(clips) > 1 or sys.stderr.isatty())
    batch = predict_clips(pipeline, clips, show_progress=show)
    if args.csv:
        batch.write_csv(args.csv)
    if args.timeline_dir:
        batch.write_timelines(args.timeline_dir)
    if args.annotate:
        batch.write_annotated(clips, args.annotate)
    if args.json:
        print(json.dumps(batch.to_json_ready(single=len(clips) == 1), indent=2, allow_nan=False))
    else:
        _print_table(batch)
    for failure in batch.failures:
        print(f"error: {failure.error}", file=sys.stderr)
    if batch.failures and len(clips) > 1:
        print(f"{len(batch.failures)} of {len(clips)} clips failed", file=sys.stderr)
    return 2 if batch.failures else 0


UNTRAINED_NOTE = "these numbers only test the software and estimate nothing"


def _print_table(batch: BatchPrediction) -> None:
    if not batch.results:
        return
    model = batch.results[0].model
    print(f"model: {model.name} ({model.kind})")
    if not model.is_prediction:
        print(f"warning: {model.name} has random weights — not a prediction: {UNTRAINED_NOTE}")
    header = "".join(f"{emotion:>15}" for emotion in EMOTIONS)
    for result in batch.results:
        print(f"\n{result.source}\n{'':<8}{header}")
        for channel in ROWS:
            values = getattr(result, channel)
            cells = "".join(f"{values[e]:>15.3f}" for e in EMOTIONS) if values else f"{'— (no input)':>15}"
            print(f"{channel:<8}{cells}")
        for warning in result.warnings:
            print(f"warning: {warning}")
