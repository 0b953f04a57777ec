"""The Live tab: the webcam and the microphone analysed as they stream, intensities updated several
times a second with a rolling timeline (:class:`emi_core.live.LiveAnalyser` does the work).

Each browser session gets its own analyser (a per-session ``gr.State``); it keeps a few seconds of
history in memory, writes nothing, and is closed when the user presses *Stop and forget*, when the
session ends, or after :data:`IDLE_TTL_S` without input. A stream runs at most
:data:`STREAM_LIMIT_S` seconds (bounded work per visitor on a public Space); start it again to go on.
"""

from __future__ import annotations

import html
import threading
import time
from collections import deque

import gradio as gr
import numpy as np

from demo.api import user_errors
from demo.plots import EMOTION_COLOURS
from emi_core.emotions import EMOTIONS
from emi_core.live import HISTORY_S, LiveAnalyser, LiveUpdate
from emi_core.models.prior import EMIPrior
from emi_core.pipeline import EMIPipeline

VIDEO_EVERY_S = 0.2
"""Seconds between webcam frames sent to the server (5 per second)."""

AUDIO_EVERY_S = 0.25
"""Seconds of microphone audio per chunk sent to the server."""

STREAM_LIMIT_S = 300
"""Longest a stream runs before the browser must start it again."""

IDLE_TTL_S = 120
"""A session's analyser is closed this long after its last input."""

RATE_WINDOW_S = 3.0
"""Updates per second are counted over this many recent seconds."""

INTRO = """\
**Live mode** analyses your webcam and microphone as they stream, with the offline **EMI prior**
(heuristic, not trained on Hume-Vidmimic2) whatever model the Estimate tab serves: start the camera
and/or the microphone, and the six intensities update several times a second, with the last
30 seconds as a timeline (face and voice only: the words are not transcribed live). Frames and
sound are analysed in memory and dropped at once; nothing is recorded or kept. *Stop and forget*
ends the analysis and clears everything."""

WAITING = "Start the webcam or the microphone to begin."

STOP_STREAMS_JS = """() => {
  for (const id of ["emi-live-camera", "emi-live-microphone"]) {
    for (const button of document.querySelectorAll(`#${id} button`)) {
      if (button.innerText.trim() === "Stop") button.click();
    }
  }
}"""
"""Press the webcam's and the microphone's own Stop buttons: the browser stops capturing and streaming."""


class LiveSession:
    """One browser session's analyser, made on first input; a deep copy (Gradio's per-session copy of a
    ``gr.State`` default) is a fresh, empty session sharing the loaded model."""

    def __init__(self, prior: EMIPrior):
        self.prior = prior
        self.analyser: LiveAnalyser | None = None
        self.times: deque[float] = deque(maxlen=256)
        self._lock = threading.Lock()

    def __deepcopy__(self, memo: dict) -> LiveSession:
        return LiveSession(self.prior)

    def live(self) -> LiveAnalyser:
        with self._lock:
            if self.analyser is None:
                self.analyser = LiveAnalyser(self.prior)
            return self.analyser

    def rate(self) -> float:
        """Updates per second over the last :data:`RATE_WINDOW_S` seconds."""
        now = time.monotonic()
        self.times.append(now)
        recent = [t for t in self.times if t >= now - RATE_WINDOW_S]
        return (len(recent) - 1) / (recent[-1] - recent[0]) if len(recent) > 1 and recent[-1] > recent[0] else 0.0

    def close(self) -> None:
        with self._lock:
            if self.analyser is not None:
                self.analyser.close()
            self.analyser = None
            self.times.clear()


def live_html(update: LiveUpdate | None, updates: int, rate: float) -> str:
    """The live panel: a status line, one bar per emotion, and the rolling fused timeline (SVG)."""
    if update is None:
        return f'<div id="emi-live-panel" data-updates="0"><p>{html.escape(WAITING)}</p></div>'
    face = {True: "face found", False: "no face in view", None: ""}[update.face_found]
    voice = "voice heard" if update.audio is not None else "no voice"
    status = " · ".join(
        part for part in (face, voice, f"{rate:.1f} updates/s", f"{1000 * update.compute_s:.0f} ms per update") if part
    )
    values = update.fused if update.fused is not None else np.full(len(EMOTIONS), np.nan)
    bars = "".join(_bar(emotion, value) for emotion, value in zip(EMOTIONS, values, strict=True))
    return (
        f'<div id="emi-live-panel" data-updates="{updates}" data-rate="{rate:.2f}" '
        f'data-face="{update.face_found}">'
        f'<p id="emi-live-status"><small>{html.escape(status)}</small></p>'
        f'<div style="display:grid;grid-template-columns:9em 1fr 3em;gap:2px 8px;align-items:center">{bars}</div>'
        f"{_timeline_svg(update)}</div>"
    )


def _bar(emotion: str, value: float) -> str:
    shown = "—" if not np.isfinite(value) else f"{value:.2f}"
    width = 0.0 if not np.isfinite(value) else 100 * float(np.clip(value, 0, 1))
    colour = EMOTION_COLOURS[emotion]
    return (
        f"<span>{emotion}</span>"
        f'<div style="background:rgba(127,127,127,.2);height:12px;border-radius:3px">'
        f'<div style="width:{width:.1f}%;background:{colour};height:12px;border-radius:3px"></div></div>'
        f'<span style="text-align:right">{shown}</span>'
    )


def _timeline_svg(update: LiveUpdate, width: int = 600, height: int = 140) -> str:
    """Polylines of the fused intensities over the last :data:`HISTORY_S` seconds (newest at the right)."""
    times, values = update.history.times, update.history.values
    lines = []
    for i, emotion in enumerate(EMOTIONS):
        if len(times) < 2:
            break
        x = width * (1 - (update.time_s - times) / HISTORY_S)
        y = height * (1 - np.clip(values[:, i], 0, 1))
        points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(x, y, strict=True))
        lines.append(
            f'<polyline fill="none" stroke="{EMOTION_COLOURS[emotion]}" stroke-width="2" points="{points}"/>'
        )
    return (
        f'<svg viewBox="0 0 {width} {height}" style="width:100%;height:{height}px" role="img" '
        f'aria-label="fused intensities over the last {HISTORY_S:g} s">'
        f'<rect width="{width}" height="{height}" fill="none" stroke="rgba(127,127,127,.35)"/>'
        f"{''.join(lines)}</svg><small>last {HISTORY_S:g} s, fused (0–1)</small>"
    )


class LiveTab:
    """Builds the Live tab around the EMI prior (the pipeline's own if it serves the prior)."""

    def __init__(self, prior: EMIPrior):
        self.prior = prior

    @classmethod
    def for_pipeline(cls, pipeline: EMIPipeline) -> LiveTab:
        """Share the app's loaded EMI prior, or load one when the app serves another model."""
        backend = pipeline.backend
        return cls(backend if isinstance(backend, EMIPrior) else EMIPrior())

    @staticmethod
    def on_frame(frame: np.ndarray | None, session: LiveSession) -> str:
        if frame is None:
            return gr.skip()
        live = session.live()
        with user_errors():
            update = live.add_frame(frame)
        return live_html(update, live.updates, session.rate())

    @staticmethod
    def on_audio(chunk: tuple[int, np.ndarray] | None, session: LiveSession) -> str:
        if chunk is None or chunk[1] is None or not np.size(chunk[1]):
            return gr.skip()
        live = session.live()
        with user_errors():
            update = live.add_audio(chunk[1], chunk[0])
        return live_html(update, live.updates, session.rate())

    @staticmethod
    def stop(session: LiveSession) -> str:
        session.close()
        return live_html(None, 0, 0.0)

    def build(self) -> None:
        """Create the tab's components and streaming events inside the current ``gr.Blocks``."""
        gr.Markdown(INTRO)
        session = gr.State(
            LiveSession(self.prior), time_to_live=IDLE_TTL_S, delete_callback=lambda s: s.close()
        )  # fmt: skip
        with gr.Row():
            with gr.Column(scale=2, min_width=300):
                camera = gr.Image(
                    sources=["webcam"], streaming=True, type="numpy", label="Webcam", elem_id="emi-live-camera",
                    webcam_options=gr.WebcamOptions(mirror=True),
                )  # fmt: skip
                microphone = gr.Audio(
                    sources=["microphone"], streaming=True, type="numpy", label="Microphone",
                    elem_id="emi-live-microphone",
                )  # fmt: skip
                stop = gr.Button("Stop and forget", elem_id="emi-live-stop")
            with gr.Column(scale=3, min_width=320):
                panel = gr.HTML(live_html(None, 0, 0.0), elem_id="emi-live")
        options = {
            "time_limit": STREAM_LIMIT_S,
            "api_visibility": "private",
            "show_progress": "hidden",
            "concurrency_id": "live",
        }
        video = camera.stream(self.on_frame, [camera, session], panel, stream_every=VIDEO_EVERY_S, **options)
        audio = microphone.stream(self.on_audio, [microphone, session], panel, stream_every=AUDIO_EVERY_S, **options)
        stop.click(None, js=STOP_STREAMS_JS, cancels=[video, audio])
        stop.click(self.stop, session, panel, api_visibility="private", queue=False)

