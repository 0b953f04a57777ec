"""The ffmpeg binary shipped inside the ``imageio-ffmpeg`` wheel (no system ffmpeg needed)."""

from __future__ import annotations

import functools
import os


@functools.lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """Path of the ffmpeg executable: ``EMI_FFMPEG`` if set, else the one bundled with imageio-ffmpeg."""
    override = os.environ.get("EMI_FFMPEG")
    if override:
        return override
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()
