"""The Estimate tab: a clip in, the six intensities out (radar, timeline, AUs, numbers, downloads).

Rendering works from the JSON form of a result (:meth:`EMIResult.to_dict`), the same dict the
``estimate`` API endpoint returns, so a cached example and a re-drawn timeline need nothing else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import gradio as gr
import numpy as np
import pandas as pd
from gradio.components import Component

from demo import plots
from demo.api import json_endpoint, message, user_errors
from demo.uploads import ExampleClips, ResultFiles, adopt, forget_upload
from emi_core.channels import CHANNELS as INPUT_CHANNELS
from emi_core.channels import FUSED, ROWS
from emi_core.emotions import EMOTIONS
from emi_core.errors import EMIError
from emi_core.features.au import AU_TITLES
from emi_core.pipeline import EMIPipeline
from emi_core.prediction import BatchPrediction
from emi_core.render import render_annotated
from emi_core.result import EMIResult, ModelInfo

CHANNELS: tuple[str, ...] = ROWS
"""Radar traces, in drawing order (fused last, on top)."""

TIMELINE_CHOICES: tuple[str, ...] = (FUSED, *INPUT_CHANNELS)
"""Timeline channels offered, the default first."""

STAGE_LABELS: dict[str, str] = {
    "decode": "Decoding the clip",
    "faces": "Tracking the face",
    "features": "Measuring action units and voice",
    "models": "Running the model",
    "fusion": "Fusing the channels",
    "done": "Done",
}

ANNOTATE_LABEL = "Also make an annotated video (the clip with its intensities drawn on it; takes a little longer)"

NOT_A_PREDICTION = "random weights — not a prediction"
logger = logging.getLogger(__name__)

KEPT_MINUTES = 30
"""At most how long the page's copies of a clip (player, annotated video, downloads) stay on the server."""

PRIVACY_NOTE = (
    "Your clip is analysed on this server. The upload is deleted right after; the copies you replay and "
    f"download here are deleted within {KEPT_MINUTES} minutes and when the app stops. Nothing is kept."
)


def provenance_markdown(model: ModelInfo) -> str:
    """The always-visible banner naming the loaded model and what its numbers are."""
    if not model.is_prediction:
        return (
            f"### {NOT_A_PREDICTION.capitalize()}\n"
            f"The loaded model **{model.name}** is untrained: its outputs are shown for testing the app "
            "only and are **not estimates** of anything."
        )
    score = (
        f" · validation mean Pearson **{model.validation_mean_pearson:.4f}**"
        if model.validation_mean_pearson is not None
        else ""
    )
    return f"**Model:** {model.name} · `{model.kind}` · version {model.version}{score} — model card in *About*."


def summary_markdown(result: dict) -> str:
    """One paragraph on what was analysed: duration, frames, face and speech coverage."""
    quality = result["quality"]
    parts = [f"**{result['source']}** · {quality['duration_s']:.1f} s analysed"]
    if quality["has_video"]:
        face = f", face in {quality['face_ratio']:.0%} of them" if quality["face_ratio"] is not None else ""
        parts.append(f"video: {quality['frames_analysed']} frames at {quality['sampled_fps']:g} fps{face}")
    if quality["has_audio"]:
        speech = f", speech {quality['speech_ratio']:.0%}" if quality["speech_ratio"] is not None else ""
        parts.append(f"audio: {quality['audio_duration_s']:.1f} s{speech}")
    else:
        parts.append("no audio")
    if not _is_prediction(result):
        parts.append(f"**{NOT_A_PREDICTION}**")
    return " · ".join(parts)


def warnings_markdown(warnings: list[str]) -> str:
    """The warnings box: a bullet list, or nothing when all went well."""
    if not warnings:
        return ""
    return "**Warnings**\n" + "\n".join(f"- {warning}" for warning in warnings)


def _is_prediction(result: dict) -> bool:
    return result["model"]["kind"] != "untrained"


def _title(result: dict, text: str) -> str:
    return text if _is_prediction(result) else f"{text} — {NOT_A_PREDICTION}"


def model_channels(result: dict) -> tuple[str, ...]:
    """The input channels of the model that made a result."""
    return tuple(result["model"].get("channels") or INPUT_CHANNELS)


def _absent(result: dict) -> dict[str, str]:
    """Why a channel without values has none, for the channels the model lacks."""
    return {c: "not in this model" for c in INPUT_CHANNELS if c not in model_channels(result)}


def radar_plot(result: dict):
    """Radar of the visual, audio and fused intensities of a result dict."""
    return plots.radar_figure(
        {c: result[c] for c in CHANNELS}, _title(result, "Intensities"), absent=_absent(result)
    )


def empty_radar():
    """The radar's axes before any clip (drawn at page load, so the browser has the plot library ready)."""
    return plots.radar_figure({}, "No clip analysed yet")


def waiting_figure(what: str):
    """What a chart shows before a result (or after a failed estimate): a note, not a blank box."""
    return plots.message_figure(f"The {what} of a clip appear here after Estimate.")


def timeline_channels(result: dict) -> list[str]:
    """The timeline channels that have a curve, default first."""
    return [c for c in TIMELINE_CHOICES if (result.get("timeline") or {}).get(c)]


def timeline_plot(result: dict, channel: str):
    """Intensities over time of one channel of a result dict (a note when that channel had no input)."""
    curve = (result.get("timeline") or {}).get(channel)
    if not curve:
        if channel in _absent(result):
            return plots.message_figure(f"No {channel} timeline: this model has no {channel} channel.")
        return plots.message_figure(f"No {channel} timeline: this clip gave that channel no input.")
    values = np.column_stack([curve[emotion] for emotion in EMOTIONS])
    return plots.timeline_figure(
        np.asarray(curve["time_s"]), values, _title(result, f"{channel.capitalize()} over time")
    )


def action_units_plot(result: dict):
    """Bar chart of the clip-mean AU intensities, or a short note why there are none (audio only, no face)."""
    units = result.get("action_units")
    if not result["quality"]["has_video"]:
        return plots.message_figure("No action units: this clip is audio only.")
    if not units or not any(v is not None for v in units["clip_mean"].values()):
        return plots.message_figure("No action units: no face was found in the clip.")
    return plots.action_units_figure(units["clip_mean"], AU_TITLES, "Action units (mean over frames with a face)")


def intensity_table(result: dict) -> pd.DataFrame:
    """Emotion × channel table of the numbers (``—`` for a channel without input)."""
    rows = []
    for emotion in EMOTIONS:
        row = {"emotion": emotion}
        for channel in CHANNELS:
            values = result[channel]
            row[channel] = f"{values[emotion]:.3f}" if values is not None else "—"
        rows.append(row)
    return pd.DataFrame(rows, columns=["emotion", *CHANNELS])


def action_units_table(result: dict) -> pd.DataFrame:
    """AU code, name and clip-mean intensity (``—`` when the face was never found)."""
    units = result.get("action_units") or {"clip_mean": {}}
    rows = [
        {"AU": name, "name": AU_TITLES.get(name, ""), "mean": f"{value:.3f}" if value is not None else "—"}
        for name, value in units["clip_mean"].items()
    ]
    return pd.DataFrame(rows, columns=["AU", "name", "mean"])


def write_downloads(result: EMIResult, folder: Path) -> tuple[Path, Path | None, Path, Path | None]:
    """Write the result JSON, the challenge CSV row (when there is an estimate), the timeline CSV and the
    transcript as subtitles (when words were recognised; the JSON has every word's times)."""
    stem = Path(result.source).stem
    json_path = folder / f"{stem}.emi.json"
    json_path.write_text(result.to_json(), encoding="utf-8")
    batch = BatchPrediction([result])
    csv_path = None
    if result.fused is not None and result.model.is_prediction:
        csv_path = batch.write_csv(folder / f"{stem}.emi.csv")
    (timeline_path,) = batch.write_timelines(folder)
    srt_path = None
    if result.transcript is not None and not result.transcript.is_empty:
        srt_path = folder / f"{stem}.transcript.srt"
        srt_path.write_text(result.transcript.to_srt(), encoding="utf-8")
    return json_path, csv_path, timeline_path, srt_path


def _discard(path: str | None) -> None:
    """Delete a request's own copy of its upload (after a failure: nothing to replay)."""
    if path:
        Path(path).unlink(missing_ok=True)


def progress_reporter(progress: gr.Progress) -> Callable[[float, str], None]:
    """Adapt the pipeline's ``progress(fraction, stage)`` callback to a Gradio progress bar."""

    def report(fraction: float, stage: str) -> None:
        progress(fraction, desc=STAGE_LABELS.get(stage, stage))

    return report


SLOTS: tuple[str, ...] = ("beside_radar", "under_timeline", "below")
"""Where extra :class:`ResultView` s go: beside the radar, under the timeline, below everything."""


class ResultView(Protocol):
    """One part of the Estimate tab that shows an aspect of a result (the tab's extension point).

    :meth:`build` creates the view's components where it is called (inside its slot's layout);
    :meth:`show` and :meth:`clear` return ``{component: value}`` for them. Views draw from the JSON
    form of the result only, so cached examples and the API's dict work the same way.
    """

    def build(self) -> None:
        """Create the components inside the current layout block."""

    def outputs(self) -> list[Component]:
        """The components :meth:`show` and :meth:`clear` update."""

    def show(self, data: dict) -> dict[Component, Any]:
        """Values for a result (``data`` is :meth:`EMIResult.to_dict`)."""

    def clear(self) -> dict[Component, Any]:
        """Values while no result is shown (before the first clip, while analysing, after a failure)."""


class EstimateTab:
    """Builds the Estimate tab and its ``estimate`` API endpoint around one loaded pipeline.

    Every handler returns ``{component: value}`` for the tab's result components (those made in
    :meth:`build` and those of the extra ``views``), so adding a view never shifts anything else.
    """

    def __init__(
        self,
        pipeline: EMIPipeline,
        examples: ExampleClips,
        files: ResultFiles,
        views: Mapping[str, Sequence[ResultView]] | None = None,
    ):
        self.pipeline = pipeline
        self.examples = examples
        self.files = files
        self.views = {slot: list((views or {}).get(slot, ())) for slot in SLOTS}
        unknown = set(views or {}) - set(SLOTS)
        if unknown:
            raise ValueError(f"unknown Estimate tab slot(s): {sorted(unknown)}; use one of {SLOTS}")

    # --- analysis -------------------------------------------------------------------------------

    def analyse(self, path: str | Path, progress: gr.Progress | None = None) -> EMIResult:
        """Run the pipeline on one clip; user errors become one-line ``gr.Error`` messages."""
        with user_errors():
            return self.pipeline(path, progress=progress_reporter(progress) if progress is not None else None)

    def estimate_api(self, clip: str | None, progress: gr.Progress = gr.Progress()) -> dict:  # noqa: B008
        """API: one clip (video or audio file) → the full result as JSON; the upload is deleted after."""
        if not clip:
            raise message("send a video or audio file")
        try:
            return self.analyse(clip, progress).to_dict()
        finally:
            forget_upload(clip, self.examples)

    # --- what the result components show --------------------------------------------------------

    def result_outputs(self) -> list[Component]:
        """Every component a result updates (the built-in ones, then the views')."""
        views = [component for view in self._all_views() for component in view.outputs()]
        return [*self.parts.values(), *views]

    def render(
        self,
        result: EMIResult,
        folder: Path | None = None,
        clip: str | Path | None = None,
        annotate: bool = False,
        notes: Sequence[str] = (),
    ) -> dict[Component, Any]:
        """Values of the result components for ``result``, its files written to ``folder`` (a new
        result folder by default); its warnings (and ``notes``) are listed in the page and pop up as toasts.

        With ``annotate`` and ``clip`` (the analysed video), the annotated video is drawn, shown in
        the page and offered among the downloads.
        """
        data = result.to_dict()
        folder = folder or self.files.new_folder()
        json_path, csv_path, timeline_path, srt_path = write_downloads(result, folder)
        warnings = [*notes, *result.warnings]
        video_path = None
        if annotate and clip and result.quality.has_video:
            video_path, failure = self._annotated(clip, result, folder)
            warnings += [failure] if failure else []
        for warning in warnings:
            gr.Warning(warning)
        channels = timeline_channels(data)
        default = channels[0] if channels else TIMELINE_CHOICES[0]
        core = self.parts
        values = {
            core["summary"]: summary_markdown(data),
            core["warnings"]: warnings_markdown(warnings),
            core["radar"]: radar_plot(data),
            core["channel"]: default,
            core["timeline"]: timeline_plot(data, default),
            core["au_plot"]: action_units_plot(data),
            core["numbers"]: intensity_table(data),
            core["au_numbers"]: action_units_table(data),
            core["downloads"]: [
                str(p) for p in (json_path, csv_path, timeline_path, srt_path, video_path) if p is not None
            ],
            core["annotated"]: gr.update(value=str(video_path) if video_path else None, visible=video_path is not None),
            core["result_json"]: data,
        }
        for view in self._all_views():
            values |= view.show(data)
        return values

    def cleared(self, summary: str = "Analysing…") -> dict[Component, Any]:
        """Values of the result components with no result: nothing of a previous one stays on screen."""
        core = self.parts
        values = {
            core["summary"]: summary,
            core["warnings"]: "",
            core["radar"]: empty_radar(),
            core["channel"]: TIMELINE_CHOICES[0],
            core["timeline"]: waiting_figure("timeline"),
            core["au_plot"]: waiting_figure("action units"),
            core["numbers"]: None,
            core["au_numbers"]: None,
            core["downloads"]: None,
            core["annotated"]: gr.update(value=None, visible=False),
            core["result_json"]: None,
        }
        for view in self._all_views():
            values |= view.clear()
        return values

    def failed(self, text: str) -> dict[Component, Any]:
        """Values after a failed estimate: the message stays in the summary, every output is cleared."""
        return self.cleared(f"**Not analysed:** {text}")

    @staticmethod
    def _annotated(clip: str | Path, result: EMIResult, folder: Path) -> tuple[Path | None, str | None]:
        """The annotated video, or ``None`` and the reason when this result cannot be drawn (e.g. no face)."""
        try:
            return render_annotated(clip, result, folder / f"{Path(result.source).stem}.annotated.mp4"), None
        except EMIError as err:
            return None, f"No annotated video: {err}"

    # --- event handlers -------------------------------------------------------------------------

    def estimate_ui(
        self,
        video: str | None,
        audio: str | None,
        annotate: bool = False,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's idiom)
    ) -> dict[Component, Any]:
        """Estimate button: analyse the video (else the audio), optionally draw the annotated video.

        The request works on its own link to the upload (in its result folder), releases the upload
        and puts its copy back in the player, so the clip can be replayed beside its timeline. A
        failure leaves its message in the summary and clears every output.
        """
        notes = ["both a video and an audio clip were given: the video was analysed"] if video and audio else []
        played: str | None = None
        try:
            clip = video or audio
            if not clip:
                raise message("upload or record a video, or an audio clip, first")
            folder = self.files.new_folder()
            try:
                played = str(adopt(clip, folder))
            except FileNotFoundError:
                raise message(f"{Path(clip).name} is no longer on the server: upload it again") from None
            result = self.analyse(played, progress)
            if annotate and video and progress is not None:
                progress(0.99, desc="Drawing the annotated video")
            outputs = self.render(result, folder, clip=played if video else None, annotate=annotate, notes=notes)
        except gr.Error as err:
            outputs, played = self.failed(err.message), _discard(played)
        except Exception:  # a bug: its traceback goes to the log, the page stays usable
            logger.exception("estimate failed")
            outputs = self.failed("something went wrong on the server while analysing this clip")
            played = _discard(played)
        finally:
            deleted = [forget_upload(path, self.examples) for path in (video, audio)]
        if any(deleted):
            kept = f" (the copy in the player goes within {KEPT_MINUTES} minutes)" if played else ""
            outputs[self.parts["summary"]] += f" · *your upload was deleted from the server{kept}*"
        return outputs | {self.video: played if video else None, self.audio: played if audio and not video else None}

    def estimate_example(self, video: str) -> dict[Component, Any]:
        """Examples (cached lazily): same outputs as the button, the example itself untouched."""
        return self.render(self.analyse(video))

    @staticmethod
    def redraw_timeline(data: dict | None, channel: str | None):
        """Timeline radio: draw the chosen channel of the current result."""
        if not data or not channel:
            return None
        return timeline_plot(data, channel)

    def _all_views(self) -> list[ResultView]:
        return [view for slot in SLOTS for view in self.views[slot]]

    def _build_views(self, slot: str) -> None:
        for view in self.views[slot]:
            view.build()

    # --- layout ---------------------------------------------------------------------------------

    def build(self) -> None:
        """Create the tab's components and events inside the current ``gr.Blocks``."""
        model = self.pipeline.model
        gr.Markdown(provenance_markdown(model), elem_id="emi-provenance", elem_classes=["emi-provenance"])
        core: dict[str, Component] = {}
        with gr.Row():
            with gr.Column(scale=2, min_width=320) as inputs_column:
                with gr.Tabs(elem_id="emi-inputs"):
                    with gr.Tab("Video", id="video"):
                        self.video = gr.Video(
                            sources=["upload", "webcam"],
                            include_audio=True,
                            label="Video — upload or record",
                            height=260,
                            elem_id="emi-video",
                        )
                    with gr.Tab("Audio only", id="audio"):
                        self.audio = gr.Audio(
                            sources=["upload", "microphone"],
                            type="filepath",
                            label="Audio — upload or record",
                            elem_id="emi-audio",
                        )
                annotate = gr.Checkbox(False, label=ANNOTATE_LABEL, elem_id="emi-annotate")
                button = gr.Button("Estimate", variant="primary", elem_id="emi-estimate")
                gr.Markdown(f"<small>{PRIVACY_NOTE}</small>")
                core["annotated"] = gr.Video(
                    label="Annotated video", visible=False, interactive=False, elem_id="emi-annotated"
                )
            with gr.Column(scale=3, min_width=360):
                core["summary"] = gr.Markdown(
                    "Upload or record a clip, then press **Estimate**.", elem_id="emi-summary"
                )
                core["warnings"] = gr.Markdown(elem_id="emi-warnings")
                with gr.Row():
                    with gr.Column(scale=3, min_width=320):
                        core["radar"] = gr.Plot(
                            empty_radar(), label="Intensities", show_label=False, elem_id="emi-radar"
                        )
                    if self.views["beside_radar"]:
                        with gr.Column(scale=2, min_width=240):
                            self._build_views("beside_radar")
                core["downloads"] = gr.File(
                    label="Downloads: result JSON, challenge CSV row, timeline CSV (and the annotated video)",
                    file_count="multiple",
                    interactive=False,
                    elem_id="emi-downloads",
                )
        with gr.Row():
            with gr.Column(scale=1, min_width=160):
                core["channel"] = gr.Radio(
                    choices=list(TIMELINE_CHOICES), value=TIMELINE_CHOICES[0], label="Timeline"
                )
            with gr.Column(scale=5):
                core["timeline"] = gr.Plot(waiting_figure("timeline"), show_label=False, elem_id="emi-timeline")
        self._build_views("under_timeline")
        with gr.Row():
            with gr.Column(scale=3):
                core["au_plot"] = gr.Plot(waiting_figure("action units"), show_label=False, elem_id="emi-au-plot")
            with gr.Column(scale=2):
                core["numbers"] = gr.Dataframe(
                    headers=["emotion", *CHANNELS], label="Intensities", interactive=False, elem_id="emi-numbers"
                )
                core["au_numbers"] = gr.Dataframe(
                    headers=["AU", "name", "mean"], label="Action units", interactive=False, max_height=300
                )
        self._build_views("below")
        with gr.Accordion("Result as JSON (what the API returns)", open=False):
            core["result_json"] = gr.JSON(show_label=False)
        self.parts = core
        """The built-in result components by name (summary, radar, timeline, …), for views to refer to."""

        outputs = self.result_outputs()
        button.click(self.cleared, None, outputs, queue=False, api_visibility="private").then(
            self.estimate_ui,
            inputs=[self.video, self.audio, annotate],
            outputs=[*outputs, self.video, self.audio],
            api_visibility="private",
            concurrency_id="estimate",
        )
        core["channel"].input(
            self.redraw_timeline,
            [core["result_json"], core["channel"]],
            core["timeline"],
            api_visibility="private",
            queue=False,
        )
        if self.examples.paths:
            with inputs_column:
                self._examples(self.video, outputs)

        json_endpoint(
            self.estimate_api,
            [gr.File(visible=False, label="clip")],
            "estimate",
            "A video or audio clip → the six intensities (visual, audio, fused), timelines, action units, "
            "quality, model provenance and warnings, as JSON.",
            concurrency_id="estimate",
        )

    def _examples(self, video: gr.Video, outputs: list) -> None:
        gr.Examples(
            examples=[[str(path)] for path in self.examples.paths],
            example_labels=[path.name for path in self.examples.paths],
            inputs=[video],
            outputs=outputs,
            fn=self.estimate_example,
            cache_examples=True,
            cache_mode="lazy",
            api_visibility="private",
            label="Examples (redistributable clips, credited in About)",
        )
