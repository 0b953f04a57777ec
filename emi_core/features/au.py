"""Facial Action Unit (AU) intensities from MediaPipe's 478-point face mesh.

Input: per-frame landmarks ``(T, 478, 3)`` in frame pixels (x, y; z = MediaPipe z × frame width),
with all-NaN rows for frames without a face. Output: ``(T, K)`` intensities in [0, 1] in the order
of :data:`AU_NAMES`, NaN rows kept.

How a value is made, in three steps:

1. **Pose-free coordinates** (:func:`face_coordinates`): every frame is moved into a face-fixed 3-D
   frame built from rigid points of the mesh itself: origin between the eye centres (midpoints of the
   eye corners 33/133 and 263/362, which do not move with gaze), x along the line from the subject's
   right to left eye centre, y down the face (orthogonal to x, opposite to the direction of the
   forehead points 10/151), z = x × y (into the face). Coordinates are divided by the 3-D
   inter-ocular distance (IOD). The result does not change with image scale, translation, in-plane
   roll or any 3-D head rotation that MediaPipe reports (yaw, pitch); symmetric measures are also
   averaged over the left and right sides.
2. **Raw measures** (:func:`au_measures`): one geometric measure per AU, in IOD units, oriented so
   that *larger = more of the AU* (the FACS reference of each is beside its formula).
3. **Intensity** (:func:`scale_measures`): ``tanh(max(0, m − b) / s)`` with ``b`` the neutral
   reference (baseline) of the measure and ``s`` its full-scale deflection (:data:`FULL_SCALE`, a fixed
   number per AU, never stretched to the clip): a deflection of ``s`` reads 0.76, ``s/2`` 0.46, ``2s``
   0.96, so a neutral clip stays low instead of being stretched to span 0..1.

The baseline (:func:`clip_baseline`) is the subject's own neutral as seen in the clip — a percentile
of each measure over the frames with a face (the 10th where the relaxed face is the measure's floor,
the median where speech or an opposing AU also pushes it below rest; see :data:`AU_SCALES`) — but it
is trusted only within the between-person spread (:data:`NEUTRAL_SPREAD`) around the population
neutral (:data:`NEUTRAL_MEASURES`). The clip thus corrects for the subject's anatomy (high brows, a
wide mouth) without cancelling an expression held for the whole clip (an acted smile from the first
to the last frame still reads as a smile). The correction is weighted by
``min(1, (valid_frames − 1) / (BASELINE_FULL_FRAMES − 1))``: a single frame has no baseline and a very
short clip (under 2 s at 10 fps) a weak one, so they fall back, smoothly, to the population neutral.
Such values are *absolute* and carry the between-person error: about one spread, which reads
``tanh(spread / full_scale)`` ≈ 0.1-0.45 depending on the AU. A baseline measured on a neutral
recording of the same person (``baseline_percentiles(au_measures(neutral_landmarks))``) can be supplied
instead, and ``baseline=NEUTRAL_MEASURES`` gives the purely absolute variant.

Calibration (:func:`neutral_statistics`): :data:`NEUTRAL_MEASURES` and :data:`NEUTRAL_SPREAD` are the
mean and standard deviation, over five neutral speakers, of each clip's baseline percentile, floored
at :data:`MIN_SPREAD`; meshes from :func:`emi_core.faces.track_faces` at 10 fps on the shared test
clips CREMA-D 1001 neutral, GRID brbk7n, GRID s1 bbaf2n, GRID lbbc2a (the subject picked in the
two-face composite) and the Obama address (``tests/test_au.py`` recomputes them). Five people are a
small sample: expect anatomy to leak into the absolute values of AU2, AU17, AU23 and AU26 (the
largest spreads). :data:`FULL_SCALE` is the deflection of a pronounced action, set from the acted
happy, sad and surprised clips (strongest clip means read about 0.5-0.9) and, for AUs no clip shows
(AU9, AU14, AU17, AU23, AU24), from the size of the movement FACS describes.

These are geometric estimates, not FACS-coder-grade intensities. AUs that change texture more than
shape (AU6 crow's feet, AU9 nose wrinkles, AU14 dimples, AU17 chin wrinkling) and the lip AUs (AU23,
AU24: lip thinning is small against speech) are read from small mesh displacements and are the least
reliable; AU43 also rises when the subject looks down; crying raises AU6/AU7/AU43 like a squint.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from emi_core.faces.landmarks import NUM_LANDMARKS

AU_TITLES: dict[str, str] = {
    "AU01": "Inner Brow Raiser",
    "AU02": "Outer Brow Raiser",
    "AU04": "Brow Lowerer",
    "AU05": "Upper Lid Raiser",
    "AU06": "Cheek Raiser",
    "AU07": "Lid Tightener",
    "AU09": "Nose Wrinkler",
    "AU10": "Upper Lip Raiser",
    "AU12": "Lip Corner Puller",
    "AU14": "Dimpler",
    "AU15": "Lip Corner Depressor",
    "AU17": "Chin Raiser",
    "AU20": "Lip Stretcher",
    "AU23": "Lip Tightener",
    "AU24": "Lip Pressor",
    "AU25": "Lips Part",
    "AU26": "Jaw Drop",
    "AU43": "Eyes Closed",
}
"""FACS names of the AUs estimated."""

AU_NAMES: tuple[str, ...] = tuple(AU_TITLES)
"""The AUs estimated, in the column order of every array this module returns."""

_AU24 = AU_NAMES.index("AU24")
_AU25 = AU_NAMES.index("AU25")

# --- MediaPipe mesh indices. Side-specific tuples name the subject's RIGHT side; _MIRROR gives the
# matching left-side point (checked on frontal meshes: each pair mirrors within 0.025 IOD) and maps
# midline points to themselves, so every measure below averages the two sides.
_EYE_CORNERS = (33, 133)  # outer, inner canthus
_IRIS_CENTRE = (468,)  # needs refine_landmarks=True
_UPPER_LID = (160, 159, 158)  # upper eyelid margin, middle third
_LOWER_LID = (144, 145, 153)  # lower eyelid margin, middle third
_BROW_INNER = (107, 66, 55, 65)  # medial third of the brow, upper and lower contour
_BROW_INNER_END = (107, 55)  # medial end of the brow
_BROW_OUTER = (70, 63, 46, 53)  # lateral third of the brow, upper and lower contour
_CHEEK = (31, 111, 117, 123)  # infraorbital cheek below the lateral half of the eye
_ALA = (48, 64, 98)  # nose wing (ala): lateral crease and base
_MOUTH_CORNER = (61,)  # outer lip corner (cheilion)
_UPPER_LIP_TOP = (0, 37)  # upper lip outer contour: midline (labrale superius) and beside the philtrum
_UPPER_LIP_TOP_MID = (0,)
_UPPER_LIP_INNER = (13, 82)  # inner upper-lip contour: midline and beside it
_UPPER_LIP_INNER_MID = (13,)
_LOWER_LIP_INNER = (14, 87)  # inner lower-lip contour: midline and beside it
_LOWER_LIP_INNER_MID = (14,)
_LOWER_LIP_BOTTOM_MID = (17,)  # lower lip outer contour, midline (labrale inferius)
_SUBNASALE = (2,)
_MENTON = (152,)  # lowest point of the chin
_FOREHEAD = (10, 151)  # midline forehead points, rigid: they define "up"

_MIRROR = {
    33: 263, 133: 362, 468: 473, 160: 387, 159: 386, 158: 385, 144: 373, 145: 374, 153: 380,
    107: 336, 66: 296, 55: 285, 65: 295, 70: 300, 63: 293, 46: 276, 53: 283,
    31: 261, 111: 340, 117: 346, 123: 352, 48: 278, 64: 294, 98: 327,
    61: 291, 37: 267, 82: 312, 87: 317,
    0: 0, 2: 2, 10: 10, 13: 13, 14: 14, 17: 17, 151: 151, 152: 152,
}  # fmt: skip
_USED = sorted(set(_MIRROR) | set(_MIRROR.values()))
_COLUMN = {index: column for column, index in enumerate(_USED)}

BASELINE_FULL_FRAMES = 20
"""Valid frames from which the clip baseline gets full weight (2 s at the default 10 fps)."""

MIN_SPREAD = 0.01
"""Floor of :data:`NEUTRAL_SPREAD` (IOD): below this the mesh's own jitter dominates."""


def face_coordinates(landmarks: np.ndarray, indices: list[int] | None = None) -> np.ndarray:
    """``(T, N, 3)`` landmarks (all 478, or ``indices``) in the face-fixed frame, in IOD units.

    See the module docstring for the frame. Frames whose eye or forehead points are missing or
    degenerate come back as NaN.
    """
    pts = _check(landmarks)

    def mean_of(idx: tuple[int, ...]) -> np.ndarray:
        return pts[:, list(idx)].mean(axis=1, dtype=np.float64)

    right = mean_of(_EYE_CORNERS)
    origin = (right + mean_of(tuple(_MIRROR[i] for i in _EYE_CORNERS))) / 2
    x_axis = 2 * (origin - right)
    iod = np.linalg.norm(x_axis, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        x_axis /= iod
        up = mean_of(_FOREHEAD) - origin
        up -= np.sum(up * x_axis, axis=-1, keepdims=True) * x_axis
        y_axis = -up / np.linalg.norm(up, axis=-1, keepdims=True)
        rotation = np.stack([x_axis, y_axis, np.cross(x_axis, y_axis)], axis=2)  # columns = new axes
        chosen = pts if indices is None else pts[:, indices]
        coords = np.matmul(chosen - origin[:, None], rotation) / iod[:, None]
    coords[~(iod[:, 0] > 0)] = np.nan
    return coords


def au_measures(landmarks: np.ndarray) -> np.ndarray:
    """``(T, K)`` raw geometric measures in IOD units, larger = more of the AU; NaN rows kept.

    Conventions: "level" is the mean y (down the face) of points and their mirror images, "height"
    is minus that (distance above the eye line), "outward" the mean distance from the facial midline,
    "depth" the mean z (into the face).
    """
    coords = face_coordinates(landmarks, _USED)
    x, y, z = coords[..., 0], coords[..., 1], coords[..., 2]

    def both_sides(idx: tuple[int, ...]) -> tuple[list[int], list[int]]:
        return [_COLUMN[i] for i in idx], [_COLUMN[_MIRROR[i]] for i in idx]

    def level(idx: tuple[int, ...]) -> np.ndarray:
        right, left = both_sides(idx)
        return (y[:, right].mean(axis=1) + y[:, left].mean(axis=1)) / 2

    def height(idx: tuple[int, ...]) -> np.ndarray:
        return -level(idx)

    def outward(idx: tuple[int, ...]) -> np.ndarray:
        right, left = both_sides(idx)
        return (x[:, left].mean(axis=1) - x[:, right].mean(axis=1)) / 2

    def depth(idx: tuple[int, ...]) -> np.ndarray:
        right, left = both_sides(idx)
        return (z[:, right].mean(axis=1) + z[:, left].mean(axis=1)) / 2

    upper_lid = height(_UPPER_LID) - height(_EYE_CORNERS)
    lower_lid = height(_LOWER_LID) - height(_EYE_CORNERS)
    corner_out = outward(_MOUTH_CORNER)
    lip_centre = (level(_UPPER_LIP_INNER_MID) + level(_LOWER_LIP_INNER_MID)) / 2
    corner_lift = lip_centre - level(_MOUTH_CORNER)  # corners above the centre of the lips
    vermilion = (level(_UPPER_LIP_INNER_MID) - level(_UPPER_LIP_TOP_MID)) + (
        level(_LOWER_LIP_BOTTOM_MID) - level(_LOWER_LIP_INNER_MID)
    )  # red-lip heights on the midline, upper + lower

    measures = {
        # AU1 Inner Brow Raiser (frontalis, pars medialis): the medial brow moves up.
        # Measure: height of the medial third of the brows above the eye line.
        "AU01": height(_BROW_INNER),
        # AU2 Outer Brow Raiser (frontalis, pars lateralis): the lateral brow moves up.
        # Measure: height of the lateral third of the brows above the eye line.
        "AU02": height(_BROW_OUTER),
        # AU4 Brow Lowerer (corrugator, depressor supercilii, procerus): brows pulled down and
        # together. Measure: minus the gap between the medial brow ends, minus half the medial brow height.
        "AU04": -2 * outward(_BROW_INNER_END) - 0.5 * height(_BROW_INNER),
        # AU5 Upper Lid Raiser (levator palpebrae): the upper lid rises, more sclera above the iris.
        # Measure: height of the upper-lid margin above the iris centre (the lid follows vertical
        # gaze, so this is steadier than its height above the eye corners).
        "AU05": height(_UPPER_LID) - height(_IRIS_CENTRE),
        # AU6 Cheek Raiser (orbicularis oculi, pars orbitalis): the infraorbital cheek is lifted,
        # bagging below the eye, crow's feet. Measure: height of the cheek points below the eye.
        "AU06": height(_CHEEK),
        # AU7 Lid Tightener (orbicularis oculi, pars palpebralis): the lower lid is raised and
        # straightened. Measure: height of the lower-lid margin relative to the eye corners.
        "AU07": lower_lid,
        # AU9 Nose Wrinkler (levator labii superioris alaeque nasi): the nose wings and the skin
        # of the nose are pulled up. Measure: height of the alae above the subnasale (the alae rise
        # more than the nasal base; this cancels most of the between-person spread in nose length).
        "AU09": height(_ALA) - height(_SUBNASALE),
        # AU10 Upper Lip Raiser (levator labii superioris): the upper lip is raised toward the
        # nose. Measure: minus the distance from the subnasale down to the upper lip's top contour.
        "AU10": level(_SUBNASALE) - level(_UPPER_LIP_TOP),
        # AU12 Lip Corner Puller (zygomaticus major): the corners move up and out, obliquely.
        # Measure: corner distance from the midline plus corner lift above the centre of the lips
        # (the centre follows half of any jaw opening, as the corners do, so speech cancels out).
        "AU12": corner_out + corner_lift,
        # AU14 Dimpler (buccinator): the corners are tightened and drawn back into the cheeks.
        # Measure: depth of the corners behind the top and bottom of the lips on the midline.
        "AU14": depth(_MOUTH_CORNER) - (depth(_UPPER_LIP_TOP_MID) + depth(_LOWER_LIP_BOTTOM_MID)) / 2,
        # AU15 Lip Corner Depressor (depressor anguli oris): the corners are pulled down.
        # Measure: how far the corners sit below the centre of the lips.
        "AU15": -corner_lift,
        # AU17 Chin Raiser (mentalis): the chin boss and lower lip are pushed up.
        # Measure: minus the height of the soft tissue from the lower lip's bottom contour to the menton.
        "AU17": level(_LOWER_LIP_BOTTOM_MID) - level(_MENTON),
        # AU20 Lip Stretcher (risorius, platysma): the corners are pulled laterally (slightly down),
        # lips flattened. Measure: corner distance from the midline minus corner lift, i.e. the
        # out-and-down component orthogonal to AU12's out-and-up.
        "AU20": corner_out - corner_lift,
        # AU23 Lip Tightener (orbicularis oris): the lips narrow and the red parts thin.
        # Measure: minus (corner distance from the midline + red-lip heights).
        "AU23": -(corner_out + vermilion),
        # AU24 Lip Pressor (orbicularis oris): closed lips pressed together, the red parts roll in.
        # Measure: minus the red-lip heights; scale_measures gates it by closed lips (1 - AU25).
        "AU24": -vermilion,
        # AU25 Lips Part: the inner lip contours separate. Measure: the inner lip gap on and beside
        # the midline; 0 with closed lips, for everyone.
        "AU25": level(_LOWER_LIP_INNER) - level(_UPPER_LIP_INNER),
        # AU26 Jaw Drop (masseter relaxed, mandible lowered). Measure: depth of the menton below
        # the eye line.
        "AU26": level(_MENTON),
        # AU43 Eyes Closed (levator relaxed): the eyelids meet. Measure: minus the eye aperture
        # (upper-lid to lower-lid margin distance). AU45 (blink) is a brief AU43.
        "AU43": lower_lid - upper_lid,
    }
    return np.stack([measures[name] for name in AU_NAMES], axis=1)


class AUScale(NamedTuple):
    """How one AU's raw measure becomes an intensity (all lengths in IOD units)."""

    percentile: float  # clip baseline = this percentile of the measure over valid frames
    neutral: float  # population neutral of the measure (same percentile, neutral speakers)
    spread: float  # between-person spread of the neutral: the most the clip may move the baseline
    full_scale: float  # deflection above the baseline that reads tanh(1) = 0.76


# Percentile 10 where the relaxed face is the measure's floor and only the AU raises it (a sporadic
# action: brows, lids, cheeks, smile, mouth opening); 50 where speech or an antagonist AU pushes the
# measure below rest for a good part of the time (AU4 vs AU1, AU15/AU20 vs AU12, lips in speech).
AU_SCALES: dict[str, AUScale] = {
    "AU01": AUScale(10, 0.393, 0.018, 0.08),
    "AU02": AUScale(10, 0.257, 0.042, 0.08),
    "AU04": AUScale(50, -0.649, 0.030, 0.08),
    "AU05": AUScale(50, 0.062, 0.010, 0.03),
    "AU06": AUScale(10, -0.319, 0.010, 0.06),
    "AU07": AUScale(50, -0.021, 0.010, 0.04),
    "AU09": AUScale(10, 0.059, 0.010, 0.03),
    "AU10": AUScale(10, -0.269, 0.017, 0.08),
    "AU12": AUScale(10, 0.305, 0.040, 0.15),
    "AU14": AUScale(10, 0.275, 0.013, 0.08),
    "AU15": AUScale(50, 0.058, 0.017, 0.08),
    "AU17": AUScale(50, -0.579, 0.049, 0.1),
    "AU20": AUScale(50, 0.460, 0.041, 0.12),
    "AU23": AUScale(50, -0.704, 0.037, 0.08),
    "AU24": AUScale(50, -0.302, 0.020, 0.06),
    "AU25": AUScale(10, 0.004, 0.010, 0.1),
    "AU26": AUScale(10, 1.771, 0.069, 0.15),
    "AU43": AUScale(10, -0.134, 0.019, 0.07),
}
"""Per-AU scaling constants (calibration: see the module docstring)."""

NEUTRAL_MEASURES = np.array([AU_SCALES[name].neutral for name in AU_NAMES])
"""``(K,)`` population-neutral raw measures: pass as ``baseline`` for absolute intensities."""

NEUTRAL_SPREAD = np.array([AU_SCALES[name].spread for name in AU_NAMES])
"""``(K,)`` between-person spread of the neutral measures (IOD)."""

FULL_SCALE = np.array([AU_SCALES[name].full_scale for name in AU_NAMES])
"""``(K,)`` full-scale deflection of each measure (IOD)."""

_PERCENTILES = np.array([AU_SCALES[name].percentile for name in AU_NAMES])


def neutral_statistics(neutral_clips: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``(neutral, spread)``, each ``(K,)``, from the ``(T, K)`` measures of neutral clips, one per person.

    The calibration recipe of :data:`NEUTRAL_MEASURES` / :data:`NEUTRAL_SPREAD`: mean and standard
    deviation (floored at :data:`MIN_SPREAD`) over the clips of each clip's baseline percentile.
    """
    if len(neutral_clips) < 2:
        raise ValueError("need the measures of at least two neutral clips")
    per_clip = np.array([baseline_percentiles(m) for m in neutral_clips])
    return per_clip.mean(axis=0), np.maximum(per_clip.std(axis=0, ddof=1), MIN_SPREAD)


def clip_baseline(measures: np.ndarray) -> np.ndarray:
    """``(K,)`` neutral reference of a clip's ``(T, K)`` measures (see the module docstring).

    Population neutral + ``w`` × (the clip's percentile − population neutral) clipped to ± the spread,
    with ``w = min(1, (valid frames − 1) / (BASELINE_FULL_FRAMES − 1))``: one valid frame or none gives the
    population neutral.
    """
    measures = np.asarray(measures, dtype=np.float64)
    valid_frames = int((~np.isnan(measures).any(axis=1)).sum())
    if valid_frames < 2:
        return NEUTRAL_MEASURES.copy()
    shift = np.clip(baseline_percentiles(measures) - NEUTRAL_MEASURES, -NEUTRAL_SPREAD, NEUTRAL_SPREAD)
    return NEUTRAL_MEASURES + min(1.0, (valid_frames - 1) / (BASELINE_FULL_FRAMES - 1)) * shift


def baseline_percentiles(measures: np.ndarray) -> np.ndarray:
    """``(K,)``: each measure's baseline percentile over the frames with a face (NaN if there are none).

    Unbounded: for a recording *known* to be the person's neutral face, pass
    ``baseline_percentiles(au_measures(neutral_landmarks))`` as ``baseline`` to :func:`estimate_aus`.
    """
    measures = np.asarray(measures, dtype=np.float64)
    valid = measures[~np.isnan(measures).any(axis=1)]
    if len(valid) == 0:
        return np.full(len(AU_NAMES), np.nan)
    return np.array([np.percentile(valid[:, k], q) for k, q in enumerate(_PERCENTILES)])


def scale_measures(measures: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """``(T, K)`` intensities in [0, 1]: ``tanh(max(0, measure − baseline) / FULL_SCALE)``; NaN kept.

    AU24 (lips pressed together) needs closed lips, so it is multiplied by ``1 − AU25``.
    """
    measures = np.asarray(measures, dtype=np.float64)
    baseline = np.asarray(baseline, dtype=np.float64)
    if baseline.shape != (len(AU_NAMES),):
        raise ValueError(f"baseline must have shape ({len(AU_NAMES)},), got {baseline.shape}")
    intensities = np.tanh(np.maximum(measures - baseline, 0.0) / FULL_SCALE)
    intensities[:, _AU24] *= 1.0 - intensities[:, _AU25]
    return intensities.astype(np.float32)


def estimate_aus(landmarks: np.ndarray, baseline: np.ndarray | None = None) -> np.ndarray:
    """``(T, K)`` AU intensities in [0, 1] in :data:`AU_NAMES` order; frames without a face stay NaN.

    ``baseline``: ``None`` estimates the subject's neutral from the clip itself
    (:func:`clip_baseline`); a ``(K,)`` array of raw measures uses that neutral instead, e.g.
    ``baseline_percentiles(au_measures(neutral_landmarks))`` from a neutral recording of the same
    person, or :data:`NEUTRAL_MEASURES` for absolute (population-referenced) values.
    """
    measures = au_measures(landmarks)
    return scale_measures(measures, clip_baseline(measures) if baseline is None else baseline)


def _check(landmarks: np.ndarray) -> np.ndarray:
    landmarks = np.asarray(landmarks)
    if landmarks.ndim != 3 or landmarks.shape[1] != NUM_LANDMARKS or landmarks.shape[2] != 3:
        raise ValueError(f"landmarks must have shape (T, {NUM_LANDMARKS}, 3), got {landmarks.shape}")
    return landmarks

