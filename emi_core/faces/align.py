"""Aligned face crops: a similarity transform that puts the eyes level at fixed template positions.

Template (fractions of the crop side ``S``, the same for every size):

* the eye line is horizontal and its midpoint lies at ``(0.5 S, EYE_LINE_Y S)``;
* the distance between the eye centres (midpoints of each eye's two corners), measured in 3D from
  MediaPipe's x, y, z so that it does not shrink when the head turns, is ``EYE_DISTANCE S``.

With MediaPipe's mesh the chin sits about 1.9-2.1 eye distances below the eye line and the top of
the brows about 0.35-0.5 above it, so the crop holds the whole face from above the brows to below
the chin, with the cheeks and a strip of forehead: a tight face crop like FER2013's, with a small
margin so that a 64 x 64 grayscale crop suits a FER2013-style expression CNN.
Pixels outside the frame are black.
"""

from __future__ import annotations

import cv2
import numpy as np

from emi_core.faces.landmarks import check_landmarks, eye_centres

EYE_LINE_Y = 0.36
EYE_DISTANCE = 0.29
MAX_SUPERSAMPLING = 4


def check_frame(frame: np.ndarray) -> None:
    """Raise ``ValueError`` unless ``frame`` is an ``(H, W, 3)`` uint8 RGB array."""
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        shape = getattr(frame, "shape", None)
        raise ValueError(f"frame must be an (H, W, 3) uint8 RGB array, got {type(frame).__name__} {shape}")


def alignment_matrix(landmarks: np.ndarray, size: int) -> np.ndarray:
    """``(2, 3)`` float64 similarity transform from frame pixels to the ``size`` x ``size`` template."""
    right, left = eye_centres(check_landmarks(landmarks).astype(np.float64))
    span = left - right
    distance = float(np.linalg.norm(span))
    if distance < 1e-6:
        raise ValueError("landmarks are degenerate: both eye centres coincide")
    cos, sin = span[:2] / max(float(np.linalg.norm(span[:2])), 1e-12)
    scale = EYE_DISTANCE * size / distance
    centre = (right[:2] + left[:2]) / 2
    rotation = scale * np.array([[cos, sin], [-sin, cos]])
    target = np.array([0.5 * size, EYE_LINE_Y * size])
    return np.hstack([rotation, (target - rotation @ centre)[:, None]])


def align_face(frame: np.ndarray, landmarks: np.ndarray, size: int = 112, grayscale: bool = False) -> np.ndarray:
    """Crop ``frame`` (``(H, W, 3)`` uint8 RGB) to the aligned face given by ``landmarks`` (frame pixels).

    Returns ``(size, size, 3)`` uint8 RGB, or ``(size, size)`` uint8 when ``grayscale``. When the face
    is much larger than the crop, it is warped at a multiple of ``size`` and then area-averaged down,
    so small crops do not alias.
    """
    check_frame(frame)
    if size < 8:
        raise ValueError(f"size must be at least 8 pixels, got {size}")
    matrix = alignment_matrix(landmarks, size)
    scale = float(np.hypot(*matrix[0, :2]))
    factor = int(min(MAX_SUPERSAMPLING, max(1.0, 1.0 / scale)))
    crop = cv2.warpAffine(
        frame, matrix * factor, (size * factor, size * factor), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0)
    )
    if factor > 1:
        crop = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY) if grayscale else crop
