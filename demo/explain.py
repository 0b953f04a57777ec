"""The "Why this number" panel of the Estimate tab: what each fused intensity is made of.

It draws the ``explanation`` of a result dict (:mod:`emi_core.explanation`): for the EMI prior, the
exact contribution of each cue, stacked per emotion and coloured by cue group (expression, action
units, voice... whatever groups the result has); for a trained checkpoint, each channel's share.
A table beside it lists the largest contributions and the moments of the clip that drove each value.
"""

from __future__ import annotations

import gradio as gr
import pandas as pd

from demo import plots
from emi_core.emotions import EMOTIONS

TOP_CUES = 3
"""Contributions named per emotion in the table."""

COLUMNS = ("emotion", "value", "made of", "peak moments")

WAITING = "Why this number: each fused value broken down, after Estimate."


def _explanation(result: dict | None) -> dict | None:
    return (result or {}).get("explanation")


def _prediction(result: dict) -> bool:
    return result["model"]["kind"] != "untrained"


def explanation_plot(result: dict | None):
    """Per-emotion stacked bars of the fused value: cue groups (additive) or channels (shares)."""
    explanation = _explanation(result)
    if not explanation:
        return plots.message_figure("No explanation: this clip gave no channel any input.")
    fused = explanation["fused"]
    segments: dict[str, dict[str, float]] = {}
    details: dict[str, dict[str, str]] = {}
    if explanation["kind"] == "additive":
        for emotion in EMOTIONS:
            for cue in fused[emotion]["cues"]:
                group = cue["group"]
                segments.setdefault(group, dict.fromkeys(EMOTIONS, 0.0))[emotion] += cue["contribution"]
                line = f"{cue['cue']} ({cue['channel']}): {cue['contribution']:.3f}"
                lines = details.setdefault(group, dict.fromkeys(EMOTIONS, ""))
                lines[emotion] += ("<br>" if lines[emotion] else "") + line
        colours = plots.CUE_GROUP_COLOURS
        title = "Why these numbers<br><sub>each cue's exact contribution to the fused value</sub>"
    else:
        for emotion in EMOTIONS:
            for channel, share in fused[emotion]["channels"].items():
                segments.setdefault(channel, dict.fromkeys(EMOTIONS, 0.0))[emotion] = share
        colours = plots.CHANNEL_COLOURS
        title = (
            "Why these numbers<br><sub>each channel's share of the fused value</sub>"
            if explanation["kind"] == "channel shares"
            else "Why these numbers<br><sub>the parts of the learned fusion (before its clip to 0–1)</sub>"
        )
    if not _prediction(result):
        title = "Breakdown<br><sub>random weights — not a prediction</sub>"
    return plots.breakdown_figure(segments, details, colours, title)


def explanation_table(result: dict | None) -> pd.DataFrame:
    """Emotion, fused value, its largest parts and the moments that drove it (one row per emotion)."""
    explanation = _explanation(result)
    if not explanation:
        return pd.DataFrame(columns=list(COLUMNS))
    rows = []
    for emotion in EMOTIONS:
        entry = explanation["fused"][emotion]
        if explanation["kind"] == "additive":
            parts = [f"{cue['cue']} {cue['contribution']:.3f}" for cue in entry["cues"][:TOP_CUES]]
        else:
            parts = [f"{channel} {share:.3f}" for channel, share in entry["channels"].items()]
        rows.append(
            {
                "emotion": emotion,
                "value": f"{entry['value']:.3f}",
                "made of": " + ".join(parts),
                "peak moments": _moments(explanation["moments"], emotion),
            }
        )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _moments(moments: dict, emotion: str) -> str:
    """``visual 1.2–2.2 s (+0.05, happy)`` for the top moment of each channel."""
    described = []
    for channel, per_emotion in moments.items():
        if not per_emotion.get(emotion):
            continue
        moment = per_emotion[emotion][0]
        cue = f", {moment['cues'][0]['cue']}" if moment.get("cues") else ""
        span = f"{moment['start_s']:.1f}–{moment['end_s']:.1f} s"
        described.append(f"{channel} {span} (+{moment['above_mean']:.2f}{cue})")
    return "; ".join(described) or "—"


def explanation_note(result: dict | None) -> str:
    """What kind of explanation this is, in one paragraph."""
    explanation = _explanation(result)
    if not explanation:
        return ""
    return f"<small>**{explanation['kind'].capitalize()}.** {explanation['description']}</small>"


class ExplanationPanel:
    """The panel as a view of the Estimate tab (``build`` / ``outputs`` / ``show`` / ``clear``)."""

    def build(self) -> None:
        """Create the chart, the note on what kind of explanation it is, and the table."""
        with gr.Group(elem_id="emi-explanation"):
            self.plot = gr.Plot(plots.message_figure(WAITING), show_label=False, elem_id="emi-explanation-plot")
            self.note = gr.Markdown(elem_id="emi-explanation-note")
            with gr.Accordion("Why this number: largest parts and peak moments", open=False):
                self.table = gr.Dataframe(
                    headers=list(COLUMNS), show_label=False, interactive=False, wrap=True,
                    elem_id="emi-explanation-table",
                )  # fmt: skip

    def outputs(self) -> list:
        """The components :meth:`show` and :meth:`clear` update."""
        return [self.plot, self.note, self.table]

    def show(self, data: dict) -> dict:
        """``{component: value}`` for a result dict."""
        return {
            self.plot: explanation_plot(data),
            self.note: explanation_note(data),
            self.table: explanation_table(data),
        }

    def clear(self) -> dict:
        """``{component: value}`` with no result."""
        return {self.plot: plots.message_figure(WAITING), self.note: "", self.table: None}
