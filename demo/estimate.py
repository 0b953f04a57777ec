"""The Estimate tab: a clip in, the six intensities out (radar, timeline, AUs, numbers, downloads).

Rendering works from the JSON form of a result (:meth:`EMIResult.to_dict`), the same dict the
``estimate`` API endpoint returns, so a cached example and a re-drawn timeline need nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd

from demo import plots
from demo.api import json_endpoint, message, user_errors
from demo.uploads import ExampleClips, ResultFiles, forget_upload
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
PRIVACY_NOTE = "Your clip is analysed on this server and deleted right after; nothing is kept."


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


def radar_plot(result: dict):
    """Radar of the visual, audio and fused intensities of a result dict."""
    return plots.radar_figure({c: result[c] for c in CHANNELS}, _title(result, "Mimicry intensities (0–1)"))


def empty_radar():
    """The radar's axes before any clip (drawn at page load, so the browser has the plot library ready)."""
    return plots.radar_figure({}, "Mimicry intensities (0–1): no clip analysed yet")


def timeline_channels(result: dict) -> list[str]:
    """The timeline channels that have a curve, default first."""
    return [c for c in TIMELINE_CHOICES if (result.get("timeline") or {}).get(c)]


def timeline_plot(result: dict, channel: str):
    """Intensities over time of one channel of a result dict (a note when that channel had no input)."""
    curve = (result.get("timeline") or {}).get(channel)
    if not curve:
        return plots.message_figure(f"No {channel} timeline: this clip gave that channel no input.")
    values = np.column_stack([curve[emotion] for emotion in EMOTIONS])
    return plots.timeline_figure(
        np.asarray(curve["time_s"]), values, _title(result, f"{channel.capitalize()} over time")
    )


def action_units_plot(result: dict):
    """Bar chart of the clip-mean AU intensities (``None`` when there was no video)."""
    units = result.get("action_units")
    if not units or not any(v is not None for v in units["clip_mean"].values()):
        return None
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


def write_downloads(result: EMIResult, folder: Path) -> tuple[Path, Path | None, Path]:
    """Write the result JSON, the challenge CSV row (when there is an estimate) and the timeline CSV."""
    stem = Path(result.source).stem
    json_path = folder / f"{stem}.emi.json"
    json_path.write_text(result.to_json(), encoding="utf-8")
    batch = BatchPrediction([result])
    csv_path = None
    if result.fused is not None and result.model.is_prediction:
        csv_path = batch.write_csv(folder / f"{stem}.emi.csv")
    (timeline_path,) = batch.write_timelines(folder)
    return json_path, csv_path, timeline_path


def progress_reporter(progress: gr.Progress) -> Callable[[float, str], None]:
    """Adapt the pipeline's ``progress(fraction, stage)`` callback to a Gradio progress bar."""

    def report(fraction: float, stage: str) -> None:
        progress(fraction, desc=STAGE_LABELS.get(stage, stage))

    return report


class EstimateTab:
    """Builds the Estimate tab and its ``estimate`` API endpoint around one loaded pipeline."""

    def __init__(self, pipeline: EMIPipeline, examples: ExampleClips, files: ResultFiles):
        self.pipeline = pipeline
        self.examples = examples
        self.files = files

    # --- analysis -------------------------------------------------------------------------------

    def analyse(self, path: str, progress: gr.Progress | None = None) -> EMIResult:
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

    def render(self, result: EMIResult, annotate_clip: str | None = None) -> tuple:
        """Values of the tab's result outputs (summary, warnings, radar, timeline channel and plot, AU plot,
        the two tables, downloads, result JSON), in that order; warnings also pop up as toasts.

        With ``annotate_clip`` (the analysed video), the downloads include the annotated video.
        """
        data = result.to_dict()
        folder = self.files.new_folder()
        json_path, csv_path, timeline_path = write_downloads(result, folder)
        video_path = self._annotated(annotate_clip, result, folder) if annotate_clip else None
        channels = timeline_channels(data)
        default = channels[0] if channels else TIMELINE_CHOICES[0]
        for warning in result.warnings:
            gr.Warning(warning)
        return (
            summary_markdown(data),
            warnings_markdown(result.warnings),
            radar_plot(data),
            default,
            timeline_plot(data, default),
            action_units_plot(data),
            intensity_table(data),
            action_units_table(data),
            [str(path) for path in (json_path, csv_path, timeline_path, video_path) if path is not None],
            data,
        )

    @staticmethod
    def _annotated(clip: str, result: EMIResult, folder: Path) -> Path | None:
        """The annotated video, or ``None`` with a toast when this result cannot be drawn (e.g. no face)."""
        try:
            return render_annotated(clip, result, folder / f"{Path(result.source).stem}.annotated.mp4")
        except EMIError as err:
            gr.Warning(f"No annotated video: {err}")
            return None

    def estimate_ui(
        self,
        video: str | None,
        audio: str | None,
        annotate: bool = False,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's idiom)
    ) -> tuple:
        """Estimate button: analyse the video (else the audio), optionally draw the annotated video,
        delete the uploads, clear the inputs."""
        try:
            clip = video or audio
            if not clip:
                raise message("Upload or record a video, or an audio clip, first.")
            if video and audio:
                gr.Warning("Both a video and an audio clip were given: the video was analysed.")
            result = self.analyse(clip, progress)
            if annotate and video and progress is not None:
                progress(0.99, desc="Drawing the annotated video")
            outputs = self.render(result, annotate_clip=video if annotate else None)
        finally:
            deleted = [forget_upload(path, self.examples) for path in (video, audio)]
        note = " · *your upload was deleted from the server*" if any(deleted) else ""
        return (outputs[0] + note, *outputs[1:], None, None)

    def estimate_example(self, video: str) -> tuple:
        """Examples (cached lazily): same outputs as the button, the example itself untouched."""
        return self.render(self.analyse(video))

    @staticmethod
    def cleared() -> tuple:
        """Outputs while a new clip is analysed: nothing of the previous result stays on screen."""
        return "Analysing…", "", empty_radar(), TIMELINE_CHOICES[0], None, None, None, None, None, None

    @staticmethod
    def redraw_timeline(data: dict | None, channel: str | None):
        """Timeline radio: draw the chosen channel of the current result."""
        if not data or not channel:
            return None
        return timeline_plot(data, channel)

    # --- layout ---------------------------------------------------------------------------------

    def build(self) -> None:
        """Create the tab's components and events inside the current ``gr.Blocks``."""
        model = self.pipeline.model
        gr.Markdown(provenance_markdown(model), elem_id="emi-provenance", elem_classes=["emi-provenance"])
        with gr.Row():
            with gr.Column(scale=2, min_width=320) as inputs_column:
                video = gr.Video(
                    sources=["upload", "webcam"], include_audio=True, label="Video — upload or record", height=300
                )
                audio = gr.Audio(sources=["upload", "microphone"], type="filepath", label="…or audio only")
                annotate = gr.Checkbox(False, label=ANNOTATE_LABEL, elem_id="emi-annotate")
                button = gr.Button("Estimate", variant="primary", elem_id="emi-estimate")
                gr.Markdown(f"<small>{PRIVACY_NOTE}</small>")
            with gr.Column(scale=3, min_width=360):
                summary = gr.Markdown("Upload or record a clip, then press **Estimate**.", elem_id="emi-summary")
                warnings = gr.Markdown(elem_id="emi-warnings")
                radar = gr.Plot(empty_radar(), label="Intensities", show_label=False, elem_id="emi-radar")
                downloads = gr.File(
                    label="Downloads: result JSON, challenge CSV row, timeline CSV (and the annotated video)",
                    file_count="multiple",
                    interactive=False,
                    elem_id="emi-downloads",
                )
        with gr.Row():
            with gr.Column(scale=1, min_width=160):
                channel = gr.Radio(choices=list(TIMELINE_CHOICES), value=TIMELINE_CHOICES[0], label="Timeline")
            with gr.Column(scale=5):
                timeline = gr.Plot(show_label=False, elem_id="emi-timeline")
        with gr.Row():
            with gr.Column(scale=3):
                au_plot = gr.Plot(show_label=False, elem_id="emi-au-plot")
            with gr.Column(scale=2):
                numbers = gr.Dataframe(
                    headers=["emotion", *CHANNELS], label="Intensities", interactive=False, elem_id="emi-numbers"
                )
                au_numbers = gr.Dataframe(
                    headers=["AU", "name", "mean"], label="Action units", interactive=False, max_height=300
                )
        with gr.Accordion("Result as JSON (what the API returns)", open=False):
            result_json = gr.JSON(show_label=False)

        outputs = [summary, warnings, radar, channel, timeline, au_plot, numbers, au_numbers, downloads, result_json]
        button.click(self.cleared, None, outputs, queue=False, api_visibility="private").then(
            self.estimate_ui,
            inputs=[video, audio, annotate],
            outputs=[*outputs, video, audio],
            api_visibility="private",
            concurrency_id="estimate",
        )
        channel.input(self.redraw_timeline, [result_json, channel], timeline, api_visibility="private", queue=False)
        if self.examples.paths:
            with inputs_column:
                self._examples(video, outputs)

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
