"""The EMI prior's evidence → intensity table: transparent, documented, and easy to change.

Every cue is a number in [0, 1]. Each emotion's intensity is the weighted mean of its cues, so it
is in [0, 1], it rises only with its own evidence, and it reaches 1 only when all of its cues are
at full strength. The mean is computed as the sum of each cue's contribution (weight × cue), so a
result's explanation (:mod:`emi_core.explanation`) adds up to its numbers exactly.
The table is a *prior* written from the facial-action and vocal-affect
literature (FACS / EMFACS prototypes; Juslin & Laukka 2003 for voice), **not** fitted to
Hume-Vidmimic2.

Visual cues (per frame)
    ``happy``, ``sad``, ``fear``, ``surprise``, ``angry``, ``disgust``, ``neutral``: probabilities of
    the FER2013 mini-Xception; ``AUxx``: Action Unit intensities from the face mesh; derived:
    ``soft_smile`` = AU12 × (1 − mouth open) (a closed-mouth, warm smile), ``open_smile`` =
    AU12 × mouth open (laughing, not talking), with ``mouth open`` = max(AU25, AU26),
    ``brow_raise`` = mean(AU01, AU02), ``press`` = max(AU23, AU24).

Audio cues (per window, from the speech frames only; 0 at typical neutral read speech)
    ``effort``: vocal effort from the spectral tilt (alpha ratio, −8 → +4 dB; independent of the
    recording gain, unlike the level), ``dynamics``: level variation (std 6 → 14 dB), ``flat_level``
    (std 5 → 2 dB), ``pitch_var``: pitch variability (std 1.5 → 4 semitones), ``flat_pitch``
    (1.5 → 0.5 semitones), ``elevated``: pitch above the speaker's median (0 → 3 semitones),
    ``bright``: spectral centroid (1500 → 2600 Hz), ``lively``: mean spectral flux (0.08 → 0.13),
    ``slow``: few voiced onsets per second (1.5 → 0.8), ``laughter``: laughter-like burst trains
    (0–1). A window's intensities are scaled by its speech presence (speech ratio / 0.3, capped at
    1, or its laughter score), so silence and non-speech sound give no vocal evidence.

Text cues (per word window of the transcript, see :mod:`emi_core.features.text`)
    ``says_<emotion>``: the highest cosine similarity of the window's sentence embedding to the
    emotion's prototype phrases (:mod:`emi_core.models.prior.phrases`), 0.2 → 0, 0.6 → 1;
    ``positive`` / ``negative``: the VADER valence of the window's words (compound score, 0.3 → 0,
    0.9 → 1, for either sign). No words, no text evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from emi_core.emotions import EMOTIONS
from emi_core.explanation import CueContributions

Table = dict[str, tuple[tuple[str, float], ...]]

VISUAL_TABLE: Table = {
    # admiration: raised inner/outer brows (AU1+AU2), a soft closed-mouth smile, mild surprise
    "Admiration": (("brow_raise", 0.35), ("soft_smile", 0.35), ("surprise", 0.15), ("happy", 0.15)),
    # amusement: smiling with the mouth open (AU12 × AU25/26, so speech alone does not count),
    # cheek raise, happy expression
    "Amusement": (("open_smile", 0.35), ("AU12", 0.15), ("AU06", 0.15), ("happy", 0.35)),
    # determination: brow lowerer (the dependable cue), lips pressed, chin raiser, angry-looking set jaw
    "Determination": (("AU04", 0.4), ("press", 0.15), ("AU17", 0.1), ("angry", 0.35)),
    # empathic pain: oblique brows (AU1+AU4), lip-corner depressor, sad / fearful expression
    "Empathic Pain": (("AU01", 0.15), ("AU04", 0.15), ("AU15", 0.2), ("sad", 0.35), ("fear", 0.15)),
    # excitement: upper lid raiser, jaw drop, surprise, happy arousal
    "Excitement": (("AU05", 0.2), ("AU26", 0.2), ("surprise", 0.35), ("happy", 0.25)),
    # joy: Duchenne smile (AU6+AU12) and a happy expression; AU6 weighs less because crying raises
    # the cheeks too
    "Joy": (("AU06", 0.15), ("AU12", 0.3), ("happy", 0.55)),
}

AUDIO_TABLE: Table = {
    # admiration: expressive, lively voice ("wow"): pitch variation and fast spectral change
    "Admiration": (("pitch_var", 0.5), ("lively", 0.5)),
    # amusement: laughter-like bursts, lively pitch
    "Amusement": (("laughter", 0.6), ("pitch_var", 0.2), ("bright", 0.2)),
    # determination: firm — high vocal effort and a dynamic, emphatic level
    "Determination": (("effort", 0.5), ("dynamics", 0.5)),
    # empathic pain: flat level and pitch, slow
    "Empathic Pain": (("flat_level", 0.35), ("flat_pitch", 0.35), ("slow", 0.3)),
    # excitement: high arousal — effort, level and pitch variation, brightness
    "Excitement": (("effort", 0.3), ("dynamics", 0.25), ("pitch_var", 0.25), ("bright", 0.2)),
    # joy: bright, lively pitch, laughter
    "Joy": (("bright", 0.3), ("pitch_var", 0.3), ("laughter", 0.25), ("elevated", 0.15)),
}

TEXT_TABLE: Table = {
    # what is said: the emotion's own prototype phrases, helped by the valence it carries
    "Admiration": (("says_admiration", 0.7), ("positive", 0.3)),
    "Amusement": (("says_amusement", 0.7), ("positive", 0.3)),
    # determination is not a valence: its phrases only
    "Determination": (("says_determination", 1.0),),
    "Empathic Pain": (("says_empathic_pain", 0.7), ("negative", 0.3)),
    "Excitement": (("says_excitement", 0.7), ("positive", 0.3)),
    "Joy": (("says_joy", 0.6), ("positive", 0.4)),
}


class Cues:
    """Named cue arrays in [0, 1], each in a group (``"expression"``, ``"action units"``, ``"voice"``...).

    Groups only label the cues (in the explanation of a result); a new group needs nothing else.
    """

    def __init__(self) -> None:
        self.values: dict[str, np.ndarray] = {}
        self.groups: dict[str, str] = {}

    def add(self, group: str, values: Mapping[str, np.ndarray | float]) -> None:
        """Add (or replace) cues of ``group``."""
        for name, value in values.items():
            self.values[name] = np.asarray(value, dtype=np.float64)
            self.groups[name] = group

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]

    def map(self, fn: Callable[[np.ndarray], np.ndarray]) -> Cues:
        """The same cues, each transformed by ``fn`` (e.g. smoothed), in the same groups."""
        out = Cues()
        out.values = {name: fn(values) for name, values in self.values.items()}
        out.groups = dict(self.groups)
        return out


def contributions(table: Table, cues: Cues, length: int) -> CueContributions:
    """Each cue's contribution to each emotion of the weighted means of ``table``, per row of ``length``.

    The intensities *are* the sums of these contributions (``(length, 6)``, in [0, 1]). A cue that is
    ``NaN`` in a row (e.g. an AU the mesh could not measure) contributes nothing there and the
    weights of the cues present are renormalised; an emotion with none of its cues present is 0.
    Their ``clip`` is the plain mean over rows (see :meth:`CueContributions.aggregated` for others).
    """
    names = tuple(dict.fromkeys(cue for emotion in EMOTIONS for cue, _ in table[emotion]))
    index = {name: k for k, name in enumerate(names)}
    weights = np.zeros((len(EMOTIONS), len(names)))
    for e, emotion in enumerate(EMOTIONS):
        for cue, weight in table[emotion]:
            weights[e, index[cue]] = weight
    columns = [np.clip(np.broadcast_to(cues[name], (length,)), 0.0, 1.0) for name in names]
    values = np.stack(columns, axis=-1).reshape(length, len(names))
    present = np.isfinite(values)
    weight_sum = present.astype(np.float64) @ weights.T  # (length, 6)
    share = np.divide(weights[None], weight_sum[:, :, None], out=np.zeros((length, *weights.shape)),
                      where=weight_sum[:, :, None] > 0)  # fmt: skip
    frames = share * np.where(present, values, 0.0)[:, None, :]
    groups = tuple(cues.groups[name] for name in names)
    return CueContributions(names, groups, weights, frames, frames.mean(axis=0))


def scale(values: np.ndarray | float, low: float, high: float) -> np.ndarray:
    """Map ``low → 0`` and ``high → 1`` linearly, clipped to [0, 1]."""
    return np.clip((np.asarray(values, dtype=np.float64) - low) / (high - low), 0.0, 1.0)
