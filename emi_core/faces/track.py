"""A whole clip's face track: :func:`track_clip` (the face stage of the pipeline, the extractor and
``emi inspect``) and :func:`track_faces` (over any ``(time_s, frame)`` pairs)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from emi_core.faces.landmarks import NUM_LANDMARKS
from emi_core.faces.tracker import FaceFrame, FaceTracker
from emi_core.media import MediaSource, iter_frames, sampling_rate

OnFrame = Callable[[FaceFrame, int, int], FaceFrame | None]
"""``on_frame(face, done, expected)``: sees each tracked frame as it comes (``done`` frames so far of
about ``expected``); returns the frame to keep in the track (e.g. without its crop, once used), or
``None`` to keep it as it is."""


@dataclass
class FaceTrack:
    """Per-frame results of :class:`FaceTracker` over a clip; ``crop_size``/``grayscale`` shape empty crops."""

    frames: list[FaceFrame]
    crop_size: int = 112
    grayscale: bool = False
    fps: float | None = None
    """The rate the frames were sampled at (``None``: not sampled from a clip's video)."""

    @property
    def face_ratio(self) -> float:
        """Share of frames in which the subject was found (0.0 for no frames)."""
        return float(self.found.mean()) if self.frames else 0.0

    @property
    def max_faces(self) -> int:
        """Most faces seen in one frame (0 for no frames)."""
        return max((frame.num_faces for frame in self.frames), default=0)

    def quality_warnings(self) -> list[str]:
        """What a user should know about the faces of this clip: none found, found rarely, several in view."""
        if not self.frames:
            return []
        if not self.found.any():
            return ["no face found in the video: the visual channel is empty"]
        warnings = []
        if self.face_ratio < 0.5:
            warnings.append(f"a face was found in only {self.face_ratio:.0%} of the sampled frames")
        if self.max_faces > 1:
            warnings.append(f"up to {self.max_faces} faces in view: the largest, most central one is analysed")
        return warnings

    @property
    def times(self) -> np.ndarray:
        """``(T,)`` float64 frame times in seconds."""
        return np.array([frame.time_s for frame in self.frames], dtype=np.float64)

    @property
    def found(self) -> np.ndarray:
        """``(T,)`` bool: the subject was found in the frame."""
        return np.array([frame.found for frame in self.frames], dtype=bool)

    def landmarks_array(self) -> np.ndarray:
        """``(T, 478, 3)`` float32 landmarks, NaN where no face was found."""
        return self._stack("landmarks", (NUM_LANDMARKS, 3))

    def crops_array(self) -> np.ndarray:
        """``(F, S, S, 3)`` uint8 crops (``(F, S, S)`` if grayscale) of the F frames with a face."""
        crops = [frame.crop for frame in self.frames if frame.found]
        if crops:
            return np.stack(crops)
        channels = () if self.grayscale else (3,)
        return np.zeros((0, self.crop_size, self.crop_size, *channels), np.uint8)

    def _stack(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        out = np.full((len(self.frames), *shape), np.nan, np.float32)
        for row, frame in zip(out, self.frames, strict=True):
            if frame.found:
                row[...] = getattr(frame, name)
        return out


def track_clip(
    source: MediaSource, fps: float | None, tracker: FaceTracker, on_frame: OnFrame | None = None
) -> FaceTrack:
    """The face stage: sample ``source``'s video at ``fps`` (capped by its limits), track the subject.

    Frames are decoded one at a time and dropped after tracking (only what ``on_frame`` keeps of each
    :class:`FaceFrame` stays), so memory does not grow with the frame size. ``tracker`` is reset
    first. A clip without video gives an empty track with ``fps=None``.
    """
    tracker.reset()
    if not source.info.has_video:
        return FaceTrack([], tracker.crop_size, tracker.grayscale)
    rate = sampling_rate(source.info, fps, source.limits)
    expected = max(1, int(source.decode_seconds * rate))
    return _follow(iter_frames(source, rate), tracker, on_frame, expected, rate)


def track_faces(frames: Iterable[tuple[float, np.ndarray]], **tracker_kwargs) -> FaceTrack:
    """Track the main subject through ``(time_s, frame)`` pairs, e.g. frames already in memory.

    ``tracker_kwargs`` go to :class:`FaceTracker` (crop_size, grayscale, max_faces, confidences).
    """
    with FaceTracker(**tracker_kwargs) as tracker:
        return _follow(frames, tracker)


def _follow(
    frames: Iterable[tuple[float, np.ndarray]],
    tracker: FaceTracker,
    on_frame: OnFrame | None = None,
    expected: int = 0,
    fps: float | None = None,
) -> FaceTrack:
    track = FaceTrack([], tracker.crop_size, tracker.grayscale, fps)
    for time_s, frame in frames:
        face = tracker(frame, time_s)
        if on_frame is not None:
            face = on_frame(face, len(track.frames) + 1, expected) or face
        track.frames.append(face)
    return track
