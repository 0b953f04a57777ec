"""Helpers for tests that need media made on the fly with the bundled ffmpeg."""

from __future__ import annotations

import subprocess
from pathlib import Path

from emi_core.media.ffmpeg import ffmpeg_exe


def ffmpeg(*args: str | Path) -> None:
    """Run the bundled ffmpeg quietly; fail the test with ffmpeg's message if it fails."""
    command = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *map(str, args)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AssertionError(f"ffmpeg failed: {' '.join(command)}\n{result.stderr}")


def convert(src: Path, dst: Path, *options: str) -> Path:
    """Re-encode ``src`` into ``dst`` (format from the extension) with extra ffmpeg ``options``."""
    ffmpeg("-i", src, *options, dst)
    return dst
