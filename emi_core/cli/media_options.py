"""Command-line options for the media limits, shared by the commands that decode clips."""

from __future__ import annotations

import argparse

from emi_core.media import MediaLimits

CLI_LIMITS = MediaLimits(max_duration_s=600.0, max_file_mb=2048.0, max_side=640, max_fps=30.0)
"""Defaults for the command line: more generous than the public app's."""


def add_media_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--max-duration``, ``--max-size-mb``, ``--max-side`` and ``--truncate`` to ``parser``."""
    group = parser.add_argument_group("media limits")
    group.add_argument("--max-duration", type=float, default=CLI_LIMITS.max_duration_s, metavar="S",
                       help="reject clips longer than S seconds (default: %(default)s)")
    group.add_argument("--max-size-mb", type=float, default=CLI_LIMITS.max_file_mb, metavar="MB",
                       help="reject files larger than MB mebibytes (default: %(default)s)")
    group.add_argument("--max-side", type=int, default=CLI_LIMITS.max_side, metavar="PX",
                       help="downscale frames whose long side exceeds PX pixels (default: %(default)s)")
    group.add_argument("--truncate", action="store_true",
                       help="analyse the first --max-duration seconds of longer clips instead of rejecting them")


def limits_from_args(args: argparse.Namespace) -> MediaLimits:
    """The :class:`MediaLimits` selected on the command line."""
    return MediaLimits(
        max_duration_s=args.max_duration,
        max_file_mb=args.max_size_mb,
        max_side=args.max_side,
        max_fps=CLI_LIMITS.max_fps,
        truncate=args.truncate,
    )
