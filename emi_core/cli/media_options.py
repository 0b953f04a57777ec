"""Command-line options for the media limits, shared by the commands that decode clips."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from emi_core.media import MediaLimits
from emi_core.media.decode import MIN_SIDE

CLI_LIMITS = MediaLimits(
    max_duration_s=600.0, max_file_mb=2048.0, max_side=640, max_fps=30.0, max_decoded_megapixels=40_000.0
)
"""Defaults for the command line: more generous than the public app's (600 s of 1080p at 30 fps fit)."""


def positive(kind: type[float] | type[int], at_least: float | None = None) -> Callable[[str], float]:
    """An argparse ``type`` accepting finite numbers above 0 (or ``>= at_least``); ``nan``, ``inf``, ``-1`` refused."""
    noun = "an integer" if kind is int else "a number"
    wanted = f"{noun} of at least {at_least:g}" if at_least is not None else f"a positive {noun.split()[-1]}"

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {noun}, got {text!r}") from None
        if not math.isfinite(value) or (value < at_least if at_least is not None else value <= 0):
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text}")
        return value

    return parse


def add_media_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--max-duration``, ``--max-size-mb``, ``--max-side``, ``--max-megapixels`` and ``--truncate``."""
    group = parser.add_argument_group("media limits")
    group.add_argument("--max-duration", type=positive(float), default=CLI_LIMITS.max_duration_s, metavar="S",
                       help="reject clips longer than S seconds (default: %(default)s)")
    group.add_argument("--max-size-mb", type=positive(float), default=CLI_LIMITS.max_file_mb, metavar="MB",
                       help="reject files larger than MB mebibytes (default: %(default)s)")
    group.add_argument("--max-side", type=positive(int, MIN_SIDE), default=CLI_LIMITS.max_side, metavar="PX",
                       help=f"downscale frames whose long side exceeds PX pixels, at least {MIN_SIDE} "
                       "(default: %(default)s)")
    group.add_argument("--max-megapixels", type=positive(float), default=CLI_LIMITS.max_decoded_megapixels,
                       metavar="MP", help="reject clips whose decoding means more than MP megapixels "
                       "(width x height x native fps x seconds; default: %(default)g)")
    group.add_argument("--truncate", action="store_true",
                       help="analyse the first --max-duration seconds (or what fits --max-megapixels) of longer "
                       "clips instead of rejecting them")


def limits_from_args(args: argparse.Namespace) -> MediaLimits:
    """The :class:`MediaLimits` selected on the command line."""
    return MediaLimits(
        max_duration_s=args.max_duration,
        max_file_mb=args.max_size_mb,
        max_side=args.max_side,
        max_fps=CLI_LIMITS.max_fps,
        truncate=args.truncate,
        max_decoded_megapixels=args.max_megapixels,
    )
