"""``emi inspect``: what is in a clip and whether the face and voice channels will have input."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path

from emi_core.media import AUDIO_SAMPLE_RATE, MediaLimits, open_media, read_audio

DEFAULT_INSPECT_FPS = 10.0


@dataclass
class ClipReport:
    """Facts about a clip, as printed by ``emi inspect``."""

    file: str
    duration_s: float | None
    frame_rate: float | None
    sampled_fps: float | None
    frames_sampled: int
    width: int | None
    height: int | None
    has_audio: bool
    audio_duration_s: float | None
    face_ratio: float | None
    max_faces: int | None
    warnings: list[str]

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return asdict(self)


def inspect_clip(path: str | Path, fps: float = DEFAULT_INSPECT_FPS, limits: MediaLimits | None = None) -> ClipReport:
    """Decode ``path`` once (frames at ``fps``, audio at 16 kHz), track faces, and report.

    Raises :class:`~emi_core.errors.MediaError` for files that cannot be used.
    """
    from emi_core.faces import FaceTrack, FaceTracker, track_clip

    source = open_media(path, limits)
    info = source.info
    track = FaceTrack([])
    if info.has_video:
        with FaceTracker() as tracker:  # crops are not needed here: drop each one as it comes
            track = track_clip(source, fps, tracker, lambda face, done, expected: replace(face, crop=None))
    audio = read_audio(source)
    return ClipReport(
        file=Path(info.path).name,
        duration_s=info.duration_s,
        frame_rate=info.fps,
        sampled_fps=track.fps,
        frames_sampled=len(track.frames),
        width=info.width,
        height=info.height,
        has_audio=audio is not None,
        audio_duration_s=round(len(audio) / AUDIO_SAMPLE_RATE, 3) if audio is not None else None,
        face_ratio=round(track.face_ratio, 4) if info.has_video else None,
        max_faces=track.max_faces if info.has_video else None,
        warnings=[*source.warnings, *track.quality_warnings()],
    )
