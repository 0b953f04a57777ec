"""Streaming face tracker: per frame, the main subject's box, 478 landmarks and aligned crop."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emi_core.faces.align import align_face, check_frame
from emi_core.faces.landmarks import landmark_box
from emi_core.faces.mesh import FaceMeshes
from emi_core.faces.subject import SubjectSelector


@dataclass
class FaceFrame:
    """What the tracker saw in one frame.

    ``num_faces``: faces with a landmark mesh in this frame (0..``max_faces``; see
    :mod:`emi_core.faces.mesh` for when a newly appeared face starts to count).
    ``box``: ``(4,)`` float32 ``[x0, y0, x1, y1]``, the extent of the subject's landmarks in frame
    pixels. ``landmarks``: ``(478, 3)`` float32, x and y in frame pixels, z = MediaPipe z x frame
    width. ``crop``: the aligned crop (:func:`~emi_core.faces.align.align_face`), ``(S, S, 3)`` uint8
    RGB or ``(S, S)`` uint8 when grayscale. All three are ``None`` when ``found`` is false.
    """

    time_s: float
    found: bool
    num_faces: int
    box: np.ndarray | None = None
    landmarks: np.ndarray | None = None
    crop: np.ndarray | None = None


class FaceTracker:
    """Track the main subject's face through a stream of frames (one clip at a time; ``reset`` between).

    Call it with each ``(H, W, 3)`` uint8 RGB frame and its time in seconds, in order. A frame
    without a face is normal: ``found`` is false. Use as a context manager or call ``close``.
    """

    def __init__(
        self,
        crop_size: int = 112,
        grayscale: bool = False,
        max_faces: int = 4,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
    ):
        if crop_size < 8:
            raise ValueError(f"crop_size must be at least 8 pixels, got {crop_size}")
        self.crop_size = crop_size
        self.grayscale = grayscale
        self.max_faces = max_faces
        self._meshes = FaceMeshes(max_faces, min_detection_confidence, min_tracking_confidence)
        self._subject = SubjectSelector()

    def __call__(self, frame: np.ndarray, time_s: float) -> FaceFrame:
        """Find the main subject in ``frame`` (shown at ``time_s`` seconds)."""
        check_frame(frame)
        faces = self._meshes(np.ascontiguousarray(frame), time_s)
        boxes = [landmark_box(face) for face in faces]
        index = self._subject(boxes, frame.shape[0], frame.shape[1], time_s)
        if index is None:
            return FaceFrame(time_s, False, len(faces))
        landmarks = faces[index]
        crop = align_face(frame, landmarks, self.crop_size, self.grayscale)
        return FaceFrame(time_s, True, len(faces), boxes[index], landmarks, crop)

    def reset(self) -> None:
        """Forget the tracked subject and faces (before a new clip)."""
        self._meshes.reset()
        self._subject.reset()

    def close(self) -> None:
        """Release MediaPipe's resources."""
        self._meshes.close()

    def __enter__(self) -> FaceTracker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
