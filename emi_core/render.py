"""An annotated copy of a clip: the estimated intensities drawn over the video as it plays.

For showing results to people: each frame gets a panel of six bars (one per emotion) following the
chosen timeline (fused by default), with the model's name, and the original audio is kept. Editing
and encoding go through moviepy (with the ffmpeg binary of ``imageio-ffmpeg``).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from emi_core.emotions import EMOTIONS
from emi_core.errors import MediaError, ModelError, RenderError
from emi_core.result import EMIResult

BAR_COLOURS: tuple[tuple[int, int, int], ...] = (
    (99, 110, 250),
    (239, 85, 59),
    (0, 204, 150),
    (171, 99, 250),
    (255, 161, 90),
    (25, 211, 243),
)
"""RGB colour of each emotion's bar, in challenge order."""

PANEL_OPACITY = 0.6


def draw_panel(frame: np.ndarray, values: np.ndarray, title: str) -> np.ndarray:
    """A copy of ``frame`` (RGB uint8) with a translucent panel of six bars and a title, bottom left."""
    height, width = frame.shape[:2]
    scale = max(0.3, height / 720)
    row = int(26 * scale) + 4
    label_width = int(150 * scale)
    bar_width = int(min(width * 0.45, 260 * scale))
    panel_w = label_width + bar_width + 16
    panel_h = row * (len(EMOTIONS) + 1) + 8
    x0, y0 = 8, max(0, height - panel_h - 8)
    out = frame.copy()
    shade = out[y0 : y0 + panel_h, x0 : x0 + panel_w]
    shade[:] = (shade * (1 - PANEL_OPACITY)).astype(np.uint8)
    font, thickness = cv2.FONT_HERSHEY_SIMPLEX, max(1, int(round(scale)))
    cv2.putText(out, title, (x0 + 6, y0 + row - 6), font, 0.5 * scale, (255, 255, 255), thickness, cv2.LINE_AA)
    for i, (emotion, value) in enumerate(zip(EMOTIONS, np.clip(values, 0.0, 1.0), strict=True)):
        top = y0 + row * (i + 1) + 4
        cv2.putText(out, emotion, (x0 + 6, top + row - 10), font, 0.45 * scale, (255, 255, 255), thickness, cv2.LINE_AA)
        left = x0 + label_width
        cv2.rectangle(out, (left, top + 3), (left + bar_width, top + row - 5), (90, 90, 90), -1)
        cv2.rectangle(out, (left, top + 3), (left + int(bar_width * value), top + row - 5), BAR_COLOURS[i], -1)
    return out


def render_annotated(clip: str | Path, result: EMIResult, out: str | Path, channel: str = "fused") -> Path:
    """Write ``out`` (mp4, H.264 + AAC): ``clip`` with ``result``'s ``channel`` timeline drawn on it.

    Only the analysed part is rendered (a clip cut to the length limit stays cut). Raises
    :class:`~emi_core.errors.MediaError` for an audio-only clip, :class:`~emi_core.errors.RenderError`
    for a channel without a timeline, :class:`~emi_core.errors.ModelError` for a model with random
    weights (its outputs are not predictions).
    """
    from moviepy import VideoFileClip

    if not result.model.is_prediction:
        raise ModelError(f"{result.model.name} has random weights: its outputs are not predictions to show")
    if not result.quality.has_video:
        raise MediaError(f"{Path(clip).name}: an annotated video needs a video, not audio only")
    curve = result.timeline(channel)
    if curve is None or len(curve.times) == 0:
        raise RenderError(f"{Path(clip).name}: the {channel} channel has no timeline to draw")
    title = f"{channel} intensity - {result.model.id} ({result.model.kind})"
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with VideoFileClip(str(clip)) as video:
        video = video.subclipped(0, min(video.duration, result.quality.duration_s or video.duration))
        annotated = video.transform(lambda get_frame, t: draw_panel(get_frame(t), curve.at(t), title))
        annotated.write_videofile(str(out), codec="libx264", audio_codec="aac", logger=None)
    return out
