"""Which face is the main subject: the most prominent one when acquiring, then the same person.

Acquiring (no subject yet, or the subject unseen for more than ``memory_s`` of video time): the face
with the highest prominence ``sqrt(box area) * (1 - 0.5 * d)``, where ``d`` is the distance of the
box centre from the frame centre divided by half the frame diagonal (0 at the centre, 1 in a corner):
the largest face wins unless a smaller one is much more central.

Tracking: the face whose box centre is nearest the subject's last box centre, if that distance is
under ``MAX_CENTRE_SHIFT`` box sizes (``sqrt`` of the last box area) and its size changed less than
``MAX_SIZE_CHANGE`` times. When no face matches, the frame has no subject (another person in view
is not taken instead) until ``memory_s`` has passed, so the subject does not flip between people.
"""

from __future__ import annotations

import numpy as np

MAX_CENTRE_SHIFT = 0.75
MAX_SIZE_CHANGE = 2.0
CENTRALITY_WEIGHT = 0.5


def box_centre(box: np.ndarray) -> np.ndarray:
    """Centre ``(x, y)`` of ``[x0, y0, x1, y1]``."""
    return (box[:2] + box[2:]) / 2


def box_size(box: np.ndarray) -> float:
    """Square root of the box area (a length, in pixels)."""
    width, height = np.maximum(box[2:] - box[:2], 0)
    return float(np.sqrt(width * height))


def prominence(box: np.ndarray, frame_height: int, frame_width: int) -> float:
    """How much a face looks like the main subject: big and near the frame centre."""
    half_diagonal = np.hypot(frame_width, frame_height) / 2
    offset = np.linalg.norm(box_centre(box) - np.array([frame_width / 2, frame_height / 2])) / half_diagonal
    return box_size(box) * (1 - CENTRALITY_WEIGHT * min(float(offset), 1.0))


def same_face(previous: np.ndarray, boxes: list[np.ndarray]) -> int | None:
    """Index of the box that continues ``previous``, or ``None`` when none is close enough."""
    size = max(box_size(previous), 1.0)
    best, best_shift = None, MAX_CENTRE_SHIFT
    for index, box in enumerate(boxes):
        shift = float(np.linalg.norm(box_centre(box) - box_centre(previous))) / size
        ratio = max(box_size(box), 1.0) / size
        if shift < best_shift and 1 / MAX_SIZE_CHANGE < ratio < MAX_SIZE_CHANGE:
            best, best_shift = index, shift
    return best


class SubjectSelector:
    """Stateful choice of the main subject among the face boxes of successive frames."""

    def __init__(self, memory_s: float = 1.0):
        self.memory_s = memory_s
        self._box: np.ndarray | None = None
        self._seen_s = 0.0

    def __call__(self, boxes: list[np.ndarray], frame_height: int, frame_width: int, time_s: float) -> int | None:
        """Index into ``boxes`` of the main subject in this frame, or ``None`` (no face, or subject absent)."""
        if self._box is not None and not 0 <= time_s - self._seen_s <= self.memory_s:
            self._box = None
        if self._box is None:
            scores = [prominence(box, frame_height, frame_width) for box in boxes]
            index = int(np.argmax(scores)) if scores else None
        else:
            index = same_face(self._box, boxes)
        if index is not None:
            self._box, self._seen_s = boxes[index], time_s
        return index

    def reset(self) -> None:
        """Forget the subject."""
        self._box = None
