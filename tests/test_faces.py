"""Face tracking on real clips: landmarks, aligned crops, the main subject, clips without faces."""

from __future__ import annotations

from itertools import islice

import cv2
import numpy as np
import pytest

from emi_core.faces import (
    EYE_DISTANCE,
    EYE_LINE_Y,
    FaceFrame,
    FaceTrack,
    FaceTracker,
    align_face,
    alignment_matrix,
    track_clip,
    track_faces,
)
from emi_core.faces.landmarks import (
    CHIN,
    FOREHEAD,
    LEFT_EYE_CORNERS,
    LEFT_IRIS_CENTRE,
    MOUTH_CORNERS,
    RIGHT_EYE_CORNERS,
    RIGHT_IRIS_CENTRE,
    eye_centres,
)
from emi_core.faces.subject import SubjectSelector
from emi_core.media import iter_frames, open_media

TALKING_CLIPS = ["grid_s1_bbaf2n_talk_neutral_m.mp4", "obama_weekly_address_talk_neutral_12s.mp4"]


def first_frames(path, count: int, fps: float = 10) -> list[np.ndarray]:
    """The first ``count`` frames of a clip sampled at ``fps``."""
    frames = iter_frames(open_media(path), fps=fps)
    try:
        return [frame for _, frame in islice(frames, count)]
    finally:
        frames.close()


@pytest.fixture(scope="module")
def obama(media) -> np.ndarray:
    """A frontal face, (450, 450, 3) uint8 RGB."""
    return first_frames(media("obama_weekly_address_talk_neutral_12s.mp4"), 1)[0]


@pytest.fixture(scope="module")
def tracked(obama) -> FaceFrame:
    with FaceTracker() as tracker:
        return tracker(obama, 0.0)


@pytest.fixture(scope="module")
def face_patch(obama, tracked) -> np.ndarray:
    """The Obama face with some context, cut out square, for pasting into synthetic frames."""
    x0, y0, x1, y1 = tracked.box
    half = 0.8 * max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    top, left = int(max(cy - half, 0)), int(max(cx - half, 0))
    return np.ascontiguousarray(obama[top : int(cy + half), left : int(cx + half)])


def paste(canvas: np.ndarray, patch: np.ndarray, centre_x: int, side: int) -> None:
    """Paste ``patch`` resized to ``side`` pixels, centred at ``centre_x`` and the canvas mid-height."""
    resized = cv2.resize(patch, (side, side), interpolation=cv2.INTER_AREA)
    top, left = canvas.shape[0] // 2 - side // 2, centre_x - side // 2
    canvas[top : top + side, left : left + side] = resized


def box_centre_x(frame: FaceFrame) -> float:
    return float(frame.box[0] + frame.box[2]) / 2


def test_landmarks_on_a_real_face(obama, tracked):
    height, width = obama.shape[:2]
    assert tracked.found and tracked.num_faces == 1
    landmarks = tracked.landmarks
    assert landmarks.shape == (478, 3) and landmarks.dtype == np.float32
    assert np.all((landmarks[:, 0] >= 0) & (landmarks[:, 0] <= width))
    assert np.all((landmarks[:, 1] >= 0) & (landmarks[:, 1] <= height))
    box = tracked.box
    assert box.shape == (4,) and box.dtype == np.float32
    assert np.all(landmarks[:, :2] >= box[:2]) and np.all(landmarks[:, :2] <= box[2:])
    assert 0.15 * width < box[2] - box[0] < 0.8 * width
    right_eye, left_eye = eye_centres(landmarks)
    mouth_y = landmarks[list(MOUTH_CORNERS), 1].mean()
    assert landmarks[FOREHEAD, 1] < max(right_eye[1], left_eye[1]) < mouth_y < landmarks[CHIN, 1]
    assert right_eye[0] < left_eye[0]  # the subject's right eye is on the image's left
    for iris, corners in ((RIGHT_IRIS_CENTRE, RIGHT_EYE_CORNERS), (LEFT_IRIS_CENTRE, LEFT_EYE_CORNERS)):
        xs = landmarks[list(corners), 0]
        assert xs.min() < landmarks[iris, 0] < xs.max()
    assert np.ptp(landmarks[:, 2]) > 0.05 * (box[2] - box[0])  # real depth, in pixels


def test_crop_sizes_and_grayscale(obama, tracked):
    assert tracked.crop.shape == (112, 112, 3) and tracked.crop.dtype == np.uint8
    gray = align_face(obama, tracked.landmarks, size=64, grayscale=True)
    assert gray.shape == (64, 64) and gray.dtype == np.uint8
    with FaceTracker(crop_size=64, grayscale=True) as tracker:
        assert tracker(obama, 0.0).crop.shape == (64, 64)
    assert align_face(obama, tracked.landmarks, size=300).shape == (300, 300, 3)


def test_alignment_puts_the_eyes_at_the_template(tracked):
    size = 112
    matrix = alignment_matrix(tracked.landmarks, size)
    right, left = eye_centres(tracked.landmarks[:, :2])
    (rx, ry), (lx, ly) = (matrix[:, :2] @ point + matrix[:, 2] for point in (right, left))
    assert ry == pytest.approx(ly, abs=1e-3)
    assert (rx + lx) / 2 == pytest.approx(size / 2, abs=1e-3)
    assert ry == pytest.approx(EYE_LINE_Y * size, abs=1e-3)
    assert lx - rx == pytest.approx(EYE_DISTANCE * size, rel=0.1)  # 3D distance >= 2D distance


def test_eyes_level_in_the_crop_of_a_tilted_face(obama):
    height, width = obama.shape[:2]
    tilted = cv2.warpAffine(obama, cv2.getRotationMatrix2D((width / 2, height / 2), 25, 1.0), (width, height))
    with FaceTracker(crop_size=224) as tracker:
        result = tracker(tilted, 0.0)
        right, left = eye_centres(result.landmarks)
        assert abs(np.degrees(np.arctan2(left[1] - right[1], left[0] - right[0]))) > 15  # really tilted
        tracker.reset()
        again = tracker(np.ascontiguousarray(result.crop), 0.0)  # landmarks found anew on the crop
    assert again.found
    right, left = eye_centres(again.landmarks)
    assert abs(np.degrees(np.arctan2(left[1] - right[1], left[0] - right[0]))) < 3
    assert (right[1] + left[1]) / 2 == pytest.approx(EYE_LINE_Y * 224, abs=0.03 * 224)
    assert (right[0] + left[0]) / 2 == pytest.approx(112, abs=0.03 * 224)
    assert again.box[1] > 0 and again.box[3] < 224  # brows to chin inside the crop


@pytest.mark.parametrize("name", TALKING_CLIPS)
def test_talking_clip_has_a_face_nearly_everywhere(media, name):
    track = track_faces(iter_frames(open_media(media(name)), fps=10))
    assert len(track.frames) >= 30
    assert track.face_ratio > 0.9
    assert track.max_faces == 1
    assert np.all(np.diff(track.times) > 0)
    landmarks = track.landmarks_array()
    assert landmarks.shape == (len(track.frames), 478, 3)
    assert np.isfinite(landmarks[track.found]).all()
    assert track.crops_array().shape == (int(track.found.sum()), 112, 112, 3)


def test_no_face_clip_is_flagged_and_does_not_raise(media):
    track = track_faces(iter_frames(open_media(media("synthetic_noface.mp4")), fps=10), crop_size=64, grayscale=True)
    assert len(track.frames) >= 40
    assert not track.found.any() and track.face_ratio == 0.0 and track.max_faces == 0
    assert all(f.num_faces == 0 and f.box is None and f.landmarks is None and f.crop is None for f in track.frames)
    assert np.isnan(track.landmarks_array()).all()
    assert track.crops_array().shape == (0, 64, 64)


def test_empty_track():
    track = FaceTrack([])
    assert track.face_ratio == 0.0 and track.max_faces == 0
    assert track.landmarks_array().shape == (0, 478, 3)
    assert track.crops_array().shape == (0, 112, 112, 3)


@pytest.mark.parametrize("big_on_left", [True, False])
def test_the_bigger_of_two_faces_is_the_subject(face_patch, big_on_left):
    canvas = np.full((360, 640, 3), 128, np.uint8)
    big_x, small_x = (170, 450) if big_on_left else (470, 190)  # the big face is a little off-centre
    paste(canvas, face_patch, big_x, 260)
    paste(canvas, face_patch, small_x, 160)
    with FaceTracker() as tracker:
        result = tracker(canvas, 0.0)
    assert result.found and result.num_faces == 2
    assert abs(box_centre_x(result) - big_x) < 40
    assert result.box[2] - result.box[0] > 0.45 * 260  # the small face is about 160 / 1.6 = 100 px wide


def test_a_much_more_central_face_beats_a_slightly_bigger_one(face_patch):
    canvas = np.full((360, 800, 3), 128, np.uint8)
    paste(canvas, face_patch, 110, 190)
    paste(canvas, face_patch, 430, 170)
    with FaceTracker() as tracker:
        result = tracker(canvas, 0.0)
    assert result.num_faces == 2 and abs(box_centre_x(result) - 430) < 40


def test_subject_keeps_its_identity_when_a_bigger_face_appears_and_reset_forgets_it(face_patch):
    alone = np.full((360, 640, 3), 128, np.uint8)
    paste(alone, face_patch, 150, 150)
    crowded = alone.copy()
    paste(crowded, face_patch, 400, 300)
    frames = [(i / 10, alone) for i in range(5)] + [(i / 10, crowded) for i in range(5, 20)]
    with FaceTracker() as tracker:
        results = [tracker(frame, time_s) for time_s, frame in frames]
        assert all(r.found and abs(box_centre_x(r) - 150) < 40 for r in results)
        counts = [r.num_faces for r in results]
        assert counts[:5] == [1] * 5
        assert counts[10:] == [2] * 10  # the newcomer is counted within the 0.5 s census interval
        tracker.reset()
        after_reset = tracker(crowded, 0.0)
    assert after_reset.num_faces == 2 and abs(box_centre_x(after_reset) - 400) < 40


def test_identity_is_stable_with_two_people_side_by_side(media):
    track = track_faces(iter_frames(open_media(media("grid_two_faces_lbax4n_lbbc2a.mp4")), fps=10))
    assert track.face_ratio > 0.9 and track.max_faces == 2
    assert np.mean([f.num_faces == 2 for f in track.frames]) > 0.9
    boxes = np.array([frame.box for frame in track.frames if frame.found], dtype=np.float32)
    on_left = (boxes[:, 0] + boxes[:, 2]) / 2 < 320  # the frame is 640 wide, one person per half
    assert on_left.all() or not on_left.any()


def test_a_lost_subject_is_not_replaced_by_another_person_until_its_memory_expires():
    left, right = np.array([50, 100, 150, 220], np.float32), np.array([400, 80, 560, 260], np.float32)
    select = SubjectSelector(memory_s=1.0)
    assert select([right, left], 360, 640, 0.0) == 0  # acquiring: the bigger face
    assert select([left, right + 8], 360, 640, 0.1) == 1  # then the same person, moved a little
    assert select([left], 360, 640, 0.2) is None  # the subject left: not swapped for the other
    assert select([left], 360, 640, 1.0) is None
    assert select([left], 360, 640, 1.2) == 0  # unseen for more than memory_s: re-acquire
    select.reset()
    assert select([left, right], 360, 640, 1.3) == 1


def test_max_faces_one_counts_a_single_face(face_patch):
    canvas = np.full((360, 640, 3), 128, np.uint8)
    paste(canvas, face_patch, 180, 200)
    paste(canvas, face_patch, 460, 200)
    with FaceTracker(max_faces=1) as tracker:
        assert tracker(canvas, 0.0).num_faces == 1


def test_bad_inputs_raise_value_error(obama, tracked):
    with FaceTracker() as tracker:
        with pytest.raises(ValueError, match="uint8 RGB"):
            tracker(cv2.cvtColor(obama, cv2.COLOR_RGB2GRAY), 0.0)
        with pytest.raises(ValueError, match="uint8 RGB"):
            tracker(obama.astype(np.float32), 0.0)
    with pytest.raises(ValueError, match="shape"):
        align_face(obama, tracked.landmarks[:68])
    with pytest.raises(ValueError, match="crop_size"):
        FaceTracker(crop_size=0)


def test_track_clip_is_the_face_stage_with_a_per_frame_callback(media):
    """Sampling, tracking and assembly in one place; the callback sees every frame in order and decides what stays."""
    path = media("cremad_1001_talk_happy_m.mp4")
    source = open_media(path)
    warnings_before = list(source.warnings)
    seen: list[tuple[float, int, int]] = []

    def drop_crop(face: FaceFrame, done: int, expected: int) -> FaceFrame:
        seen.append((face.time_s, done, expected))
        assert face.crop is not None or not face.found  # the callback gets the whole frame
        return FaceFrame(face.time_s, face.found, face.num_faces, face.box, face.landmarks, None)

    with FaceTracker() as tracker:
        track = track_clip(source, 10, tracker, drop_crop)
    assert track.fps == 10 and source.warnings == warnings_before
    assert [done for _, done, _ in seen] == list(range(1, len(track.frames) + 1))
    assert abs(seen[0][2] - len(track.frames)) <= 2  # the expected count is right to a frame or two
    assert all(frame.crop is None for frame in track.frames) and track.face_ratio > 0.9
    reference = track_faces(iter_frames(open_media(path), fps=10))
    np.testing.assert_array_equal(track.times, reference.times)
    np.testing.assert_allclose(track.landmarks_array(), reference.landmarks_array(), atol=1e-3)


def test_track_clip_of_audio_only_is_empty(media):
    with FaceTracker() as tracker:
        track = track_clip(open_media(media("cremad_1002_sad_f.wav")), 10, tracker)
    assert track.frames == [] and track.fps is None and track.quality_warnings() == []
