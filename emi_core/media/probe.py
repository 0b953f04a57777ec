"""What is inside a media file, read from ffmpeg's own stream report (no ffprobe needed)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from emi_core.errors import MediaError
from emi_core.media.ffmpeg import ffmpeg_exe

VIDEO_EXTENSIONS = frozenset({".mp4", ".m4v", ".webm", ".mov", ".avi", ".mkv", ".mpg", ".mpeg"})
AUDIO_EXTENSIONS = frozenset({".wav", ".mp3", ".m4a", ".ogg", ".oga", ".opus", ".flac", ".aac"})
SUPPORTED_EXTENSIONS = VIDEO_EXTENSIONS | AUDIO_EXTENSIONS

_DURATION = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_STREAM = re.compile(r"^\s*Stream #\d+:\d+.*?: (Video|Audio): (.*)$", re.MULTILINE)
_SIZE = re.compile(r"(?:^|[ ,])(\d{2,5})x(\d{2,5})(?:[ ,\[]|$)")
_FPS = re.compile(r"(\d+(?:\.\d+)?)\s*(?:fps|tbr)\b")
_RATE = re.compile(r"(\d+)\s*Hz")
_ROTATION = re.compile(r"rotation of (-?\d+(?:\.\d+)?) degrees|rotate\s*:\s*(-?\d+)")
_CORRUPT_HINTS = (
    "Invalid data found",
    "moov atom not found",
    "could not find codec parameters",
    "Error opening input",
    "EBML header parsing failed",
    "invalid",
)


@dataclass(frozen=True)
class MediaInfo:
    """Streams of a media file as ffmpeg reports them.

    ``width``/``height`` are the displayed size (after the rotation stored in the file), and
    ``duration_s`` is ``None`` when the container does not say (e.g. browser-recorded webm).
    """

    path: str
    duration_s: float | None
    has_video: bool
    width: int | None
    height: int | None
    fps: float | None
    rotation: int
    has_audio: bool
    audio_sample_rate: int | None
    video_codec: str | None
    audio_codec: str | None


def check_file(path: str | Path, max_file_bytes: int) -> Path:
    """Return ``path`` as a :class:`Path` after checking it exists, is a supported type and has a sane size."""
    path = Path(path)
    if not path.exists():
        raise MediaError(f"{path.name}: file not found ({path})")
    if not path.is_file():
        raise MediaError(f"{path.name}: not a regular file")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        supported = ", ".join(sorted(e.lstrip(".") for e in SUPPORTED_EXTENSIONS))
        raise MediaError(f"{path.name}: unsupported format '{suffix or 'no extension'}' (supported: {supported})")
    size = path.stat().st_size
    if size == 0:
        raise MediaError(f"{path.name}: the file is empty (0 bytes)")
    if size > max_file_bytes:
        raise MediaError(
            f"{path.name}: the file is {size / 2**20:.1f} MiB; the limit is {max_file_bytes / 2**20:.0f} MiB"
        )
    return path


def probe(path: str | Path) -> MediaInfo:
    """Read the streams of ``path`` (already checked by :func:`check_file`) or raise :class:`MediaError`."""
    path = Path(path)
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True,
        text=True,
        errors="replace",
        check=False,
    )
    report = proc.stderr
    streams = _STREAM.findall(report)
    if not streams:
        if any(hint in report for hint in _CORRUPT_HINTS) or "Input #0" not in report:
            raise MediaError(f"{path.name}: corrupt or undecodable media (ffmpeg: {_last_error(report)})")
        raise MediaError(f"{path.name}: the file has no audio or video stream")
    video = next((desc for kind, desc in streams if kind == "Video" and not _is_cover_art(desc)), None)
    audio = next((desc for kind, desc in streams if kind == "Audio"), None)
    if video is None and audio is None:
        raise MediaError(f"{path.name}: the file has no audio or video stream")
    width = height = None
    fps = None
    rotation = 0
    if video is not None:
        size = _SIZE.search(video)
        if size:
            width, height = int(size.group(1)), int(size.group(2))
        fps_match = _FPS.search(video)
        fps = float(fps_match.group(1)) if fps_match else None
        rotation = _rotation(report)
        if rotation % 180 == 90 and width and height:
            width, height = height, width
    rate = _RATE.search(audio) if audio else None
    return MediaInfo(
        path=str(path),
        duration_s=_duration(report),
        has_video=video is not None,
        width=width,
        height=height,
        fps=fps if fps and 0 < fps < 1000 else None,
        rotation=rotation,
        has_audio=audio is not None,
        audio_sample_rate=int(rate.group(1)) if rate else None,
        video_codec=video.split()[0].rstrip(",") if video else None,
        audio_codec=audio.split()[0].rstrip(",") if audio else None,
    )


def _duration(report: str) -> float | None:
    match = _DURATION.search(report)
    if not match:
        return None
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _rotation(report: str) -> int:
    match = _ROTATION.search(report)
    if not match:
        return 0
    return int(round(float(match.group(1) or match.group(2)))) % 360


def _is_cover_art(description: str) -> bool:
    return "attached pic" in description


def _last_error(report: str) -> str:
    lines = [line.strip() for line in report.splitlines() if line.strip()]
    useful = [
        line
        for line in lines
        if not line.startswith(("ffmpeg version", "built with", "configuration", "lib", "At least one output"))
    ]
    return (useful[-1] if useful else "no output")[:200]
