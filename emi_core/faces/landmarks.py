"""Indices into MediaPipe's 478-point face mesh and small geometry helpers on it.

Left and right are the *subject's*: the subject's right eye appears on the image's left in a
frontal, unmirrored view. Points 468-477 are the iris points that ``refine_landmarks=True`` adds.
"""

from __future__ import annotations

import numpy as np

NUM_LANDMARKS = 478

RIGHT_EYE_CORNERS = (33, 133)  # outer, inner
LEFT_EYE_CORNERS = (263, 362)  # outer, inner
RIGHT_IRIS_CENTRE = 468
LEFT_IRIS_CENTRE = 473
MOUTH_CORNERS = (61, 291)  # subject's right, left
CHIN = 152
FOREHEAD = 10


def check_landmarks(landmarks: np.ndarray) -> np.ndarray:
    """Return ``landmarks`` if it is a ``(478, 3)`` (or ``(478, 2)``) array, else raise ``ValueError``."""
    landmarks = np.asarray(landmarks)
    if landmarks.ndim != 2 or landmarks.shape[0] != NUM_LANDMARKS or landmarks.shape[1] not in (2, 3):
        raise ValueError(f"landmarks must have shape ({NUM_LANDMARKS}, 3), got {landmarks.shape}")
    return landmarks


def eye_centres(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centres of the subject's right and left eyes: midpoints of the eye corners (gaze-independent)."""
    right = landmarks[list(RIGHT_EYE_CORNERS)].mean(axis=0)
    left = landmarks[list(LEFT_EYE_CORNERS)].mean(axis=0)
    return right, left


def landmark_box(landmarks: np.ndarray) -> np.ndarray:
    """``(4,)`` float32 ``[x0, y0, x1, y1]``: the extent of the landmarks (not clipped to the frame)."""
    xy = landmarks[:, :2]
    return np.concatenate([xy.min(axis=0), xy.max(axis=0)]).astype(np.float32)
