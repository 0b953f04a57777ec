"""Decode a clip once: RGB frames at a chosen rate and 16 kHz mono float32 audio.

Each stream goes through one streamed ffmpeg process (the binary from ``imageio-ffmpeg``);
frames can be consumed one at a time with :func:`iter_frames` so that memory stays flat, or
collected by :func:`load_clip`.
"""

from __future__ import annotations

import math
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emi_core.errors import MediaError
from emi_core.media.ffmpeg import ffmpeg_exe
from emi_core.media.probe import MediaInfo, check_file, probe

AUDIO_SAMPLE_RATE = 16_000
DEFAULT_NATIVE_FPS = 25.0
SILENCE_DBFS = -60.0
"""Audio whose peak stays at or below this level is treated as no audio (e.g. a muted phone track)."""
MIN_SIDE = 64
"""Smallest long side frames may be downscaled to: below it no face can be found."""
BUDGET_FPS = 60.0
"""Native frame rate assumed by the pixel budget when the file does not state one (e.g. variable-rate webm)."""
MIN_FRAME_PIXELS = 65_536
"""Each decoded frame counts at least this many pixels in the budget (tiny frames still cost a decode)."""


@dataclass(frozen=True)
class MediaLimits:
    """Limits on what is decoded; the defaults suit a public demo, the CLI can raise them.

    ``max_frame_megapixels`` bounds one source frame (before downscaling) and
    ``max_decoded_megapixels`` the source pixels decoded for the whole clip (width × height × native
    frame rate × seconds): decoding costs that much whatever rate is sampled, so a short, small file of
    8K video at 60 fps is refused (or cut) before any decoding. ``truncate``: cut clips over the
    duration or pixel budget (with a warning) instead of rejecting them.
    """

    max_duration_s: float = 120.0
    max_file_mb: float = 200.0
    max_side: int = 640
    max_fps: float = 30.0
    truncate: bool = False
    max_frame_megapixels: float = 36.0
    max_decoded_megapixels: float = 4000.0

    def __post_init__(self) -> None:
        for name in ("max_duration_s", "max_file_mb", "max_fps", "max_frame_megapixels", "max_decoded_megapixels"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive finite number, got {value!r}")
        if not isinstance(self.max_side, int) or self.max_side < MIN_SIDE:
            raise ValueError(f"max_side must be an integer of at least {MIN_SIDE} pixels, got {self.max_side!r}")

    @property
    def max_file_bytes(self) -> int:
        """``max_file_mb`` in bytes."""
        return int(self.max_file_mb * 2**20)


@dataclass
class MediaSource:
    """A checked, probed file and the decoding plan derived from it and the limits."""

    info: MediaInfo
    limits: MediaLimits
    decode_seconds: float
    truncated: bool
    warnings: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """File name, for messages."""
        return Path(self.info.path).name


@dataclass
class Clip:
    """A decoded clip: sampled RGB frames with timestamps and 16 kHz mono audio.

    ``frames`` is ``(N, H, W, 3)`` uint8 or ``None`` for audio-only files; ``audio`` is float32 in
    [-1, 1] or ``None`` when the file has no audio track (a warning says so).
    """

    info: MediaInfo
    frames: np.ndarray | None
    timestamps: np.ndarray | None
    fps: float | None
    audio: np.ndarray | None
    sample_rate: int
    truncated: bool
    warnings: list[str]

    @property
    def duration_s(self) -> float:
        """Duration of what was decoded (the longer of the two streams)."""
        video = len(self.frames) / self.fps if self.frames is not None and self.fps else 0.0
        audio = len(self.audio) / self.sample_rate if self.audio is not None else 0.0
        return max(video, audio)


def open_media(path: str | Path, limits: MediaLimits | None = None) -> MediaSource:
    """Check and probe ``path`` and apply the limits; raise :class:`MediaError` for anything unusable."""
    limits = limits or MediaLimits()
    info = probe(check_file(path, limits.max_file_bytes))
    name = Path(info.path).name
    warnings: list[str] = []
    truncated = False
    if info.duration_s is not None and info.duration_s > limits.max_duration_s:
        if not limits.truncate:
            raise MediaError(
                f"{name}: the clip is {info.duration_s:.1f} s long; the limit is {limits.max_duration_s:g} s"
            )
        truncated = True
        warnings.append(f"clip cut to the first {limits.max_duration_s:g} s of {info.duration_s:.1f} s")
    seconds = min(info.duration_s or math.inf, limits.max_duration_s)
    budget_s = pixel_budget_seconds(info, limits)
    if budget_s < seconds and info.duration_s is None:
        seconds = budget_s  # length unknown (browser webm): checked once decoded
    elif budget_s < seconds:
        video = f"{info.width}×{info.height} video at {info.fps or BUDGET_FPS:g} fps"
        if not limits.truncate:
            raise MediaError(
                f"{name}: decoding {info.duration_s:.1f} s of {video} exceeds the limit of "
                f"{limits.max_decoded_megapixels:g} megapixels per clip (at most {budget_s:.1f} s of it): "
                "use a smaller or shorter clip"
            )
        truncated, seconds = True, budget_s
        warnings[:] = [w for w in warnings if not w.startswith("clip cut")]
        warnings.append(
            f"clip cut to the first {budget_s:.1f} s: {video} exceeds the decoding budget of "
            f"{limits.max_decoded_megapixels:g} megapixels"
        )
    if not info.has_audio:
        warnings.append("no audio track: the audio channel is skipped")
    return MediaSource(info, limits, seconds, truncated, warnings)


def pixel_budget_seconds(info: MediaInfo, limits: MediaLimits) -> float:
    """Seconds of ``info``'s video that fit the pixel budget (``inf`` for audio); raise for oversized frames."""
    if not info.has_video or not info.width or not info.height:
        return math.inf
    frame_pixels = info.width * info.height
    if frame_pixels > limits.max_frame_megapixels * 1e6:
        raise MediaError(
            f"{Path(info.path).name}: {info.width}×{info.height} frames exceed the limit of "
            f"{limits.max_frame_megapixels:g} megapixels per frame"
        )
    return limits.max_decoded_megapixels * 1e6 / (max(frame_pixels, MIN_FRAME_PIXELS) * (info.fps or BUDGET_FPS))


def sampling_rate(info: MediaInfo, fps: float | None, limits: MediaLimits) -> float:
    """Frames per second to sample: ``fps`` if given, else the native rate; never above ``limits.max_fps``."""
    rate = fps if fps else (info.fps or DEFAULT_NATIVE_FPS)
    if rate <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    return float(min(rate, limits.max_fps))


def output_size(info: MediaInfo, max_side: int) -> tuple[int, int]:
    """Frame size after downscaling so that the long side is at most ``max_side`` (even numbers)."""
    if not info.width or not info.height:
        raise MediaError(f"{Path(info.path).name}: the video stream has no readable frame size")
    scale = min(1.0, max_side / max(info.width, info.height))
    width = max(2, int(round(info.width * scale / 2)) * 2)
    height = max(2, int(round(info.height * scale / 2)) * 2)
    return width, height


def iter_frames(source: MediaSource, fps: float | None = None) -> Iterator[tuple[float, np.ndarray]]:
    """Yield ``(time_s, frame)`` for frames sampled at ``fps``; ``frame`` is ``(H, W, 3)`` uint8 RGB.

    One ffmpeg process streams raw frames; it is stopped when the iterator is closed.
    """
    info, limits = source.info, source.limits
    if not info.has_video:
        return
    rate = sampling_rate(info, fps, limits)
    width, height = output_size(info, limits.max_side)
    seconds = _decode_window(source)
    command = [
        ffmpeg_exe(), "-v", "error", "-nostdin", "-i", info.path, "-map", "0:v:0", "-an", "-sn",
        "-t", f"{seconds:.3f}",
        "-vf", f"fps={rate:.6f}:eof_action=pass,scale={width}:{height}:flags=area",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1",
    ]  # fmt: skip
    frame_bytes = width * height * 3
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, bufsize=frame_bytes * 4)
        count = 0
        try:
            while True:
                buffer = proc.stdout.read(frame_bytes)
                if len(buffer) < frame_bytes:
                    break
                yield count / rate, np.frombuffer(buffer, np.uint8).reshape(height, width, 3)
                count += 1
        finally:
            proc.stdout.close()
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        errors.seek(0)
        message = errors.read().decode("utf-8", "replace").strip()
    if count == 0:
        raise MediaError(f"{source.name}: no video frame could be decoded (corrupt or truncated file){_tail(message)}")
    _check_complete(source, count / rate, "video", message)


def read_audio(source: MediaSource) -> np.ndarray | None:
    """Return the first audio track as 16 kHz mono float32 (``None`` when there is none)."""
    info = source.info
    if not info.has_audio:
        return None
    command = [
        ffmpeg_exe(), "-v", "error", "-nostdin", "-i", info.path, "-map", "0:a:0", "-vn", "-sn",
        "-t", f"{_decode_window(source):.3f}",
        "-ac", "1", "-ar", str(AUDIO_SAMPLE_RATE), "-f", "f32le", "pipe:1",
    ]  # fmt: skip
    proc = subprocess.run(command, capture_output=True, check=False)
    message = proc.stderr.decode("utf-8", "replace").strip()
    audio = np.frombuffer(proc.stdout, np.float32)
    if audio.size == 0:
        if not info.has_video:
            raise MediaError(f"{source.name}: no audio could be decoded (corrupt or truncated file){_tail(message)}")
        source.warnings.append("the audio track could not be decoded: the audio channel is skipped")
        return None
    _check_complete(source, audio.size / AUDIO_SAMPLE_RATE, "audio", message)
    return np.clip(audio, -1.0, 1.0).astype(np.float32, copy=False)


def is_silent(waveform: np.ndarray | None) -> bool:
    """Whether ``waveform`` holds no audible sound: ``None``, empty, or a peak at most :data:`SILENCE_DBFS`."""
    return waveform is None or not waveform.size or float(np.abs(waveform).max()) <= 10 ** (SILENCE_DBFS / 20)


def load_clip(
    path: str | Path,
    fps: float | None = None,
    limits: MediaLimits | None = None,
    *,
    video: bool = True,
    audio: bool = True,
) -> Clip:
    """Decode ``path`` once into sampled frames and 16 kHz mono audio (see :class:`Clip`)."""
    source = open_media(path, limits)
    frames = timestamps = rate = None
    if video and source.info.has_video:
        rate = sampling_rate(source.info, fps, source.limits)
        decoded = list(iter_frames(source, rate))
        timestamps = np.array([t for t, _ in decoded], dtype=np.float64)
        frames = np.stack([frame for _, frame in decoded])
    waveform = read_audio(source) if audio else None
    return Clip(
        info=source.info,
        frames=frames,
        timestamps=timestamps,
        fps=rate,
        audio=waveform,
        sample_rate=AUDIO_SAMPLE_RATE,
        truncated=source.truncated,
        warnings=list(source.warnings),
    )



def _decode_window(source: MediaSource) -> float:
    """Seconds to decode: the whole clip, or up to the limit (plus a frame) when the length is unknown."""
    if source.info.duration_s is not None:
        return source.decode_seconds
    return source.decode_seconds + 0.05


def _check_complete(source: MediaSource, decoded_s: float, stream: str, message: str) -> None:
    """Turn an unknown-length clip over the limit into an error/warning, and flag partial decodes."""
    info, limits = source.info, source.limits
    if info.duration_s is None and decoded_s >= source.decode_seconds:
        limit = f"{round(source.decode_seconds, 1):g} s"
        if not limits.truncate:
            raise MediaError(f"{source.name}: the clip is longer than the limit of {limit}")
        if not source.truncated:
            source.truncated = True
            source.warnings.append(f"clip cut to the first {limit}")
    expected = source.decode_seconds if info.duration_s is not None else None
    if expected and decoded_s < 0.9 * expected - 0.5:
        source.warnings.append(
            f"only {decoded_s:.1f} s of {expected:.1f} s of {stream} could be decoded (the file may be truncated)"
        )
    elif message and "error" in message.lower():
        source.warnings.append(f"{stream} decoded with errors: {message.splitlines()[-1][:160]}")


def _tail(message: str) -> str:
    return f" (ffmpeg: {message.splitlines()[-1][:160]})" if message else ""
