"""``emi evaluate``: Pearson's r per emotion for every channel, every combination and the fused output on a split."""

from __future__ import annotations

import argparse
import json

from emi_core.device import DEVICES, resolve_device
from emi_core.features.cache import FeatureCache


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``evaluate`` command."""
    parser = subparsers.add_parser(
        "evaluate",
        help="score a trained model on a labelled split from cached features (the paper's table)",
    )
    parser.add_argument("--model", required=True, help="checkpoint folder or Hugging Face hub id")
    parser.add_argument("--cache", required=True, help="feature cache holding the model's feature stores")
    parser.add_argument("--split", required=True, help="labelled split CSV (Filename + six emotions)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--batch-size", type=int, default=16, help="default: %(default)s")
    parser.add_argument("--device", choices=DEVICES, default="auto", help="default: %(default)s")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the table (a row per channel, combination and fused; six emotions, mean, N) or its JSON form."""
    from emi_core.models.paper import EMIModel  # imports torch: only when the command runs
    from emi_core.training.data import read_split
    from emi_core.training.evaluate import evaluate_model

    split = read_split(args.split)
    model = EMIModel.from_pretrained(args.model, map_location=resolve_device(args.device))
    evaluation = evaluate_model(model, FeatureCache(args.cache), split, args.batch_size)
    if args.json:
        report = {"model": args.model, "split": split.path.name, "n_videos": len(split.ids), **evaluation.to_dict()}
        print(json.dumps(report, allow_nan=False))
    else:
        print(f"{split.path.name}: {len(split.ids)} videos; model {args.model}")
        print(evaluation.table())
    return 0
