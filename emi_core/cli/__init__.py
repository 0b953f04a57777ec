"""The ``emi`` command line: one sub-command per module, all logic in :mod:`emi_core`.

Each command module exposes ``register(subparsers)``, which adds its parser and sets
``func(args) -> int``. User errors (:class:`~emi_core.errors.EMIError`) are printed as one line on
stderr with exit code 2 and no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from emi_core import __version__
from emi_core.errors import EMIError, one_line
from emi_core.native_logs import quiet_native_stderr

COMMAND_MODULES: tuple[str, ...] = (
    "inspect",
    "predict",
    "score",
    "leaderboard",
    "extract",
    "train",
    "evaluate",
    "predict_split",
)
"""Modules of :mod:`emi_core.cli` that register a sub-command, in help order."""

EXIT_USER_ERROR = 2


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr (exit code 2), like every other error."""

    def error(self, message: str):  # noqa: D102 (argparse's hook)
        self.exit(EXIT_USER_ERROR, f"error: {self.prog}: {one_line(message)} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the ``emi`` parser with every sub-command registered."""
    parser = OneLineParser(
        prog="emi",
        description="EMI studio: Emotional Mimicry Intensity estimation, scoring and leaderboard.",
    )
    parser.add_argument("--version", action="version", version=f"emi {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"emi_core.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``emi`` command; return its exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except EMIError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def entry_point() -> int:
    """The ``emi`` program (console script and ``python -m emi_core``): :func:`main` with native logs quieted."""
    quiet_native_stderr()
    return main()
