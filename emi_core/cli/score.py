"""``emi score``: validate a submission, score it against a ground truth, or run as a CodaLab scorer."""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``score`` command."""
    parser = subparsers.add_parser(
        "score",
        help="validate or score a challenge CSV (Pearson's r per emotion and their mean)",
        description="Score predictions against a ground truth, check a file's format before submitting, "
        "or act as a CodaLab / Codabench scoring program. Invalid files: every problem on stderr, exit code 2.",
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--pred", metavar="P.csv", help="predictions to score (needs --truth)")
    mode.add_argument("--validate", metavar="P.csv", help="check the format only (no ground truth needed)")
    mode.add_argument(
        "--codalab",
        nargs=2,
        metavar=("INPUT_DIR", "OUTPUT_DIR"),
        help="score INPUT_DIR/res/*.csv against INPUT_DIR/ref/*.csv; write OUTPUT_DIR/scores.txt and scores.json",
    )
    parser.add_argument("--truth", metavar="T.csv", help="ground-truth CSV (with --pred)")
    parser.add_argument("--json", action="store_true", help="with --pred: print one JSON object instead of a table")
    parser.set_defaults(func=run, parser=parser)


def run(args: argparse.Namespace) -> int:
    """Run the chosen mode; problems in a file raise an EMIError (exit code 2)."""
    from emi_core import scoring

    if args.validate:
        result = scoring.validate_submission(args.validate)
        result.raise_for_problems()
        print(f"{args.validate}: valid challenge CSV with {result.n_rows} rows")
        return 0
    if args.codalab:
        report = scoring.run_codalab(*args.codalab)
    else:
        if not args.truth:
            args.parser.error("--pred needs --truth")
        report = scoring.score_submission(args.pred, args.truth)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps(report.to_dict(), allow_nan=False))
    elif not args.codalab:
        print(format_report(report))
    return 0


def format_report(report) -> str:
    """A readable table of a :class:`~emi_core.scoring.ScoreReport`."""
    width = max(len(name) for name in report.per_emotion)
    lines = [f"{'emotion':<{width}}  pearson_r"]
    lines += [f"{name:<{width}}  {value:+.6f}" for name, value in report.per_emotion.items()]
    lines += [f"{'mean':<{width}}  {report.mean_pearson:+.6f}", f"n = {report.n} videos"]
    return "\n".join(lines)
