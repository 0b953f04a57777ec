"""``emi inspect CLIP``: print what a clip holds (streams, faces, audio) as JSON."""

from __future__ import annotations

import argparse
import json

from emi_core.cli.media_options import add_media_options, limits_from_args, positive
from emi_core.inspection import DEFAULT_INSPECT_FPS, inspect_clip


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``inspect`` command."""
    parser = subparsers.add_parser("inspect", help="report streams, face coverage and audio of a clip (JSON)")
    parser.add_argument("clip", help="video or audio file")
    parser.add_argument("--fps", type=positive(float), default=DEFAULT_INSPECT_FPS,
                        help="frames per second to sample (default: %(default)s)")
    add_media_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the clip report as one JSON object."""
    report = inspect_clip(args.clip, fps=args.fps, limits=limits_from_args(args))
    print(json.dumps(report.to_dict(), indent=2))
    return 0
