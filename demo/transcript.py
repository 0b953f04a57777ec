"""The transcript under the timeline: what was said, word by word with its times, and the words
spoken where the fused intensities peak (so "why is Joy high at 3 s?" is easy to answer).

Drawn from the JSON form of a result (``result["transcript"]``); every word is HTML-escaped (the
words come from a stranger's audio).
"""

from __future__ import annotations

import html

import gradio as gr

from emi_core.emotions import EMOTIONS

PEAK_WINDOW_S = 1.0
"""Words whose middle lies within this many seconds of an emotion's fused peak are marked."""

WAITING = "The transcript appears here after Estimate."


def peak_times(result: dict) -> dict[str, float]:
    """The time of each emotion's highest fused value (``{}`` without a fused timeline)."""
    timeline = (result.get("timeline") or {}).get("fused")
    if not timeline or not timeline["time_s"]:
        return {}
    times = timeline["time_s"]
    return {e: times[max(range(len(times)), key=lambda i: timeline[e][i])] for e in EMOTIONS}


def _clock(seconds: float) -> str:
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


def transcript_html(result: dict | None) -> str:
    """The transcript as HTML: one line per segment with its start time; words near a peak highlighted."""
    transcript = (result or {}).get("transcript")
    if transcript is None:
        return "<p><em>No transcript: this model has no text channel, or the clip has no audible audio.</em></p>"
    if not transcript["segments"]:
        return "<p><em>No words recognised (silence, music or noise give an empty transcript).</em></p>"
    peaks = peak_times(result)
    lines = []
    for segment in transcript["segments"]:
        words = []
        for word in segment["words"]:
            middle = (word["start"] + word["end"]) / 2
            near = [e for e, t in peaks.items() if abs(middle - t) <= PEAK_WINDOW_S]
            title = f"{word['start']:.2f}–{word['end']:.2f} s · p {word['probability']:.2f}"
            if near:
                title += " · near the peak of " + ", ".join(near)
            text = html.escape(word["text"])
            cls = ' class="emi-peak"' if near else ""
            words.append(f'<span{cls} title="{html.escape(title)}">{text}</span>')
        lines.append(f'<p><span class="emi-time">[{_clock(segment["start"])}]</span> {" ".join(words)}</p>')
    said = []
    for emotion, t in peaks.items():
        near = [w["text"] for s in transcript["segments"] for w in s["words"]
                if abs((w["start"] + w["end"]) / 2 - t) <= PEAK_WINDOW_S]  # fmt: skip
        if near:
            said.append(f"<li><b>{emotion}</b> peaks at {t:.1f} s: “{html.escape(' '.join(near))}”</li>")
    peaks_html = f"<ul class='emi-peaks'>{''.join(said)}</ul>" if said else ""
    model = html.escape(transcript["model"])
    return (
        f"<div class='emi-transcript'>{''.join(lines)}{peaks_html}"
        f"<p class='emi-asr'><small>Transcribed by {model} · language {html.escape(transcript['language'])}"
        " · highlighted: words within 1 s of an emotion's fused peak (hover a word for its times)</small></p></div>"
    )


class TranscriptView:
    """The transcript as a view of the Estimate tab (``build`` / ``outputs`` / ``show`` / ``clear``)."""

    def build(self) -> None:
        """Create the transcript panel."""
        with gr.Accordion("What was said (transcript with word times)", open=True, elem_id="emi-transcript"):
            self.html = gr.HTML(f"<p><em>{WAITING}</em></p>", elem_id="emi-transcript-html")

    def outputs(self) -> list:
        """The components :meth:`show` and :meth:`clear` update."""
        return [self.html]

    def show(self, data: dict) -> dict:
        """``{component: value}`` for a result dict."""
        return {self.html: transcript_html(data)}

    def clear(self) -> dict:
        """``{component: value}`` with no result."""
        return {self.html: f"<p><em>{WAITING}</em></p>"}
