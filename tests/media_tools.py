"""Helpers for tests that need media made on the fly with the bundled ffmpeg."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Mapping
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


def speak(text: str, out: Path, voice: str = "en-us", speed: int = 150) -> Path:
    """``out`` (wav): Debian's espeak-ng saying ``text``; skips the test where espeak-ng is not installed."""
    import shutil

    import pytest

    if shutil.which("espeak-ng") is None:
        pytest.skip("needs Debian's espeak-ng (apt install espeak-ng)")
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(out), text], check=True, capture_output=True)
    return out


def speak_over(clip: Path, text: str, out: Path, voice: str = "en-us") -> Path:
    """``out`` (mp4): the video of ``clip`` with its audio replaced by espeak-ng saying ``text``."""
    speech = speak(text, out.with_name(f".{out.stem}.speech.wav"), voice)
    ffmpeg("-i", clip, "-i", speech, "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", "-shortest", out)
    speech.unlink()
    return out


def video_folder(folder: Path, clips: Mapping[str, str], media: Callable[[str], Path], corrupt: str) -> Path:
    """Fill ``folder`` with ``{id}{suffix}`` copies of the test clips ``clips`` (id → clip name) and a
    corrupt ``{corrupt}.mp4``, as a challenge's video folder; return ``folder``."""
    folder.mkdir(parents=True)
    for video_id, name in clips.items():
        shutil.copy(media(name), folder / f"{video_id}{Path(name).suffix}")
    (folder / f"{corrupt}.mp4").write_bytes(b"\x00" * 2048)
    return folder
