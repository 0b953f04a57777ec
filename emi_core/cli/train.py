"""``emi train``: train the paper's model on cached features, with early stopping and resume."""

from __future__ import annotations

import argparse

from emi_core.channels import CHANNELS, PAPER_CHANNELS
from emi_core.device import DEVICES, resolve_device
from emi_core.errors import ConfigError
from emi_core.features.cache import FeatureCache
from emi_core.models.temporal_config import TemporalConfig
from emi_core.training.config import FUSIONS, LOSSES, TrainConfig

DEFAULTS = TrainConfig()
MODEL_OPTIONS = ("max_len", "d_model", "layers", "heads", "ff_dim", "dropout")
"""TemporalConfig fields settable from the command line (``--max-len`` …)."""


def _default(field: str) -> str:
    return f" (default: {TemporalConfig.__dataclass_fields__[field].default})"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` command."""
    parser = subparsers.add_parser(
        "train",
        help="train the visual / audio regressors on cached features (resumable)",
        description=(
            "Train one TCN + Transformer regressor per channel on the features in --cache, select each "
            "channel at its best validation epoch (mean Pearson's r), and write the checkpoint, "
            "metrics.csv and last.pt into --out. Rerun the same command to resume."
        ),
    )
    parser.add_argument("--cache", required=True, help="feature cache folder (written by emi extract)")
    parser.add_argument("--train", required=True, help="training split CSV (Filename + six emotions)")
    parser.add_argument("--val", required=True, help="validation split CSV")
    parser.add_argument("--out", required=True, help="output folder: best checkpoint, metrics.csv, last.pt")
    parser.add_argument(
        "--channels",
        default=",".join(PAPER_CHANNELS),
        help=f"comma-separated channels, some of {','.join(CHANNELS)} (default: %(default)s)",
    )
    parser.add_argument(
        "--features",
        action="append",
        default=[],
        metavar="KEY",
        help="feature store key to use for its channel, when the cache has several (repeatable)",
    )
    parser.add_argument("--loss", choices=LOSSES, default=DEFAULTS.loss, help="default: %(default)s")
    parser.add_argument("--epochs", type=int, default=DEFAULTS.epochs, help="default: %(default)s")
    parser.add_argument(
        "--patience",
        type=int,
        default=DEFAULTS.patience,
        help="epochs without improvement before a channel stops (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULTS.seed, help="default: %(default)s")
    parser.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size, help="default: %(default)s")
    parser.add_argument("--lr", type=float, default=DEFAULTS.lr, help="AdamW learning rate (default: %(default)s)")
    parser.add_argument("--weight-decay", type=float, default=DEFAULTS.weight_decay, help="default: %(default)s")
    parser.add_argument(
        "--fusion",
        choices=FUSIONS,
        default=DEFAULTS.fusion,
        help="late fusion: the paper's mean, per-emotion weights or a learned linear map fitted on --val "
        "(default: %(default)s)",
    )
    parser.add_argument("--max-len", type=int, help="frames per training crop / inference window" + _default("max_len"))
    parser.add_argument("--d-model", type=int, help="width of the TCN and Transformer" + _default("d_model"))
    parser.add_argument("--layers", type=int, help="Transformer encoder layers" + _default("layers"))
    parser.add_argument("--heads", type=int, help="attention heads" + _default("heads"))
    parser.add_argument("--ff-dim", type=int, help="Transformer feed-forward width" + _default("ff_dim"))
    parser.add_argument("--dropout", type=float, help="dropout" + _default("dropout"))
    parser.add_argument(
        "--dataset", default=DEFAULTS.dataset, help="name of the data, for the model card (default: %(default)s)"
    )
    parser.add_argument("--device", choices=DEVICES, default="auto", help="default: %(default)s")
    parser.add_argument("--workers", type=int, default=0, help="data-loading worker processes (default: %(default)s)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Train (or resume), print one line per epoch and the final validation table."""
    from emi_core.training.trainer import train  # imports torch: only when the command runs

    model_options = {key: getattr(args, key) for key in MODEL_OPTIONS if getattr(args, key) is not None}
    try:
        config = TrainConfig(
            channels=tuple(c.strip() for c in args.channels.split(",") if c.strip()),
            loss=args.loss,
            epochs=args.epochs,
            seed=args.seed,
            batch_size=args.batch_size,
            lr=args.lr,
            weight_decay=args.weight_decay,
            patience=args.patience,
            fusion=args.fusion,
            dataset=args.dataset,
            model=model_options,
        )
    except ValueError as err:
        raise ConfigError(f"invalid training settings: {err}") from None
    cache = FeatureCache(args.cache)
    stores = {cache.open(key).channel: key for key in args.features}
    result = train(
        config,
        cache,
        args.train,
        args.val,
        args.out,
        device=resolve_device(args.device),
        stores=stores,
        workers=args.workers,
        on_epoch=lambda record: print(record.summary(), flush=True),
    )
    print(
        f"\nbest checkpoint: {result.out} (best epoch: "
        + ", ".join(f"{c} {e}" for c, e in result.best_epoch.items())
        + ")"
    )
    print(result.evaluation.table())
    return 0
