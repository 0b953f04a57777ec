"""The Estimate tab's figures, tables and downloads, from results built here (test-only numbers)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from demo import estimate, plots
from emi_core.emotions import CSV_HEADER, EMOTIONS
from emi_core.result import ActionUnits, Curve, EMIResult, ModelInfo, Quality


def make_result(*, audio: bool = True, visual: bool = True, kind: str = "heuristic", warnings=()) -> EMIResult:
    """An EMIResult with made-up numbers (never shown in the app; only these tests use it)."""
    times = np.linspace(0.0, 2.0, 21)
    ramp = np.linspace(0.1, 0.9, 6)
    curve = Curve(times, np.tile(ramp, (len(times), 1)))
    visual_values = dict(zip(EMOTIONS, ramp.round(4).tolist(), strict=True)) if visual else None
    audio_values = dict(zip(EMOTIONS, (1 - ramp).round(4).tolist(), strict=True)) if audio else None
    fused = visual_values or audio_values
    units = ActionUnits(("AU06", "AU12"), times, np.column_stack([np.full(21, 0.2), np.full(21, np.nan)]))
    return EMIResult(
        source="clip.mp4",
        visual=visual_values,
        audio=audio_values,
        fused=fused,
        visual_timeline=curve if visual else None,
        audio_timeline=curve if audio else None,
        fused_timeline=curve if fused else None,
        action_units=units if visual else None,
        quality=Quality(
            duration_s=2.0,
            has_video=visual,
            has_audio=audio,
            sampled_fps=10.0 if visual else None,
            frames_analysed=21 if visual else 0,
            face_ratio=1.0 if visual else None,
            max_faces=1 if visual else None,
            audio_duration_s=2.0 if audio else None,
            speech_ratio=0.5 if audio else None,
            truncated=False,
        ),
        model=ModelInfo("test", "test model", "0", kind, "MIT", "builtin:test"),
        warnings=list(warnings),
    )


def test_radar_has_a_trace_per_channel_in_challenge_order_on_a_fixed_scale():
    data = make_result().to_dict()
    fig = estimate.radar_plot(data)
    assert [trace.name for trace in fig.data[1:]] == ["visual", "audio", "text (no input)", "fused"]
    assert fig.data[0].showlegend is False and all(value is None for value in fig.data[0].r)  # axes holder
    for trace, channel in zip(fig.data[1:3], ("visual", "audio"), strict=True):
        assert list(trace.theta) == [*EMOTIONS, EMOTIONS[0]]
        assert list(trace.r[:-1]) == [data[channel][e] for e in EMOTIONS]
        assert trace.r[-1] == trace.r[0]  # closed shape
    assert tuple(fig.layout.polar.radialaxis.range) == (0, 1)
    assert fig.layout.paper_bgcolor == plots.TRANSPARENT and fig.layout.polar.bgcolor == plots.TRANSPARENT


def test_radar_lists_a_channel_without_input_as_such():
    fig = estimate.radar_plot(make_result(audio=False).to_dict())
    assert [trace.name for trace in fig.data[1:]] == ["visual", "audio (no input)", "text (no input)", "fused"]
    assert fig.data[2].visible == "legendonly" and all(value is None for value in fig.data[2].r)


def test_empty_radar_keeps_the_polar_axes():
    fig = estimate.empty_radar()
    assert len(fig.data) == 1 and fig.data[0].type == "scatterpolar" and fig.data[0].showlegend is False
    assert tuple(fig.layout.polar.radialaxis.range) == (0, 0.5)


def test_radar_of_typical_values_zooms_in_and_no_trace_hides_another():
    """Values of 0.1–0.4 (typical) are drawn on a 0–0.5 scale, named in the title; every trace has a
    translucent fill under a solid line, fused last; above 0.475 the scale is 0–1."""
    result = make_result().to_dict()
    for channel, scale in (("visual", 0.4), ("audio", 0.3), ("fused", 0.35)):
        result[channel] = {e: round(0.1 + scale * i / 10, 3) for i, e in enumerate(EMOTIONS)}
    fig = estimate.radar_plot(result)
    assert tuple(fig.layout.polar.radialaxis.range) == (0, 0.5) and "scale 0–0.5" in fig.layout.title.text
    traces = [trace for trace in fig.data[1:] if trace.visible != "legendonly"]
    assert [t.name for t in traces][-1] == "fused"
    assert all(t.fill == "toself" and t.fillcolor.startswith("rgba(") for t in traces)
    assert all(float(t.fillcolor.rsplit(",", 1)[1].rstrip(")")) <= 0.2 for t in traces)
    assert traces[-1].line.width > max(t.line.width for t in traces[:-1])
    result["fused"]["Joy"] = 0.8
    assert tuple(estimate.radar_plot(result).layout.polar.radialaxis.range) == (0, 1.0)


def test_timeline_defaults_to_fused_and_explains_a_missing_channel():
    data = make_result(audio=False).to_dict()
    assert estimate.timeline_channels(data) == ["fused", "visual"]
    fig = estimate.timeline_plot(data, "fused")
    assert [trace.name for trace in fig.data] == list(EMOTIONS)
    assert tuple(fig.layout.yaxis.range) == (0, 1)
    np.testing.assert_allclose(fig.data[0].x, data["timeline"]["fused"]["time_s"])
    missing = estimate.timeline_plot(data, "audio")
    assert not missing.data and "No audio timeline" in missing.layout.annotations[0].text


def test_tables_show_numbers_and_dashes_for_missing_channels():
    data = make_result(audio=False).to_dict()
    table = estimate.intensity_table(data)
    assert list(table["emotion"]) == list(EMOTIONS)
    assert list(table["audio"]) == ["—"] * 6
    assert table.loc[0, "visual"] == f"{data['visual']['Admiration']:.3f}"
    units = estimate.action_units_table(data)
    assert units.to_dict("records") == [
        {"AU": "AU06", "name": "Cheek Raiser", "mean": "0.200"},
        {"AU": "AU12", "name": "Lip Corner Puller", "mean": "—"},
    ]
    fig = estimate.action_units_plot(data)
    assert list(fig.data[0].y) == ["AU06 Cheek Raiser"]  # labelled with its name; one never measured is left out
    assert fig.data[0].orientation == "h" and list(fig.data[0].x) == [0.2]


def test_no_face_says_so_instead_of_a_blank_chart():
    data = make_result().to_dict()
    data["action_units"]["clip_mean"] = {name: None for name in data["action_units"]["clip_mean"]}
    empty = estimate.action_units_plot(data)
    assert not empty.data and "no face was found" in empty.layout.annotations[0].text


def test_audio_only_result_has_no_action_units():
    data = make_result(visual=False).to_dict()
    empty = estimate.action_units_plot(data)  # a short message, not a blank box
    assert not empty.data and "audio only" in empty.layout.annotations[0].text
    assert estimate.action_units_table(data).empty
    assert "no audio" not in estimate.summary_markdown(data)


def test_warnings_box_lists_each_warning():
    assert estimate.warnings_markdown([]) == ""
    box = estimate.warnings_markdown(["no audio track: the audio channel is skipped", "clip cut"])
    assert "- no audio track: the audio channel is skipped" in box and "- clip cut" in box


def test_untrained_model_is_never_presented_as_an_estimate(tmp_path):
    result = make_result(kind="untrained")
    banner = estimate.provenance_markdown(result.model)
    assert estimate.NOT_A_PREDICTION.capitalize() in banner and "not estimates" in banner
    data = result.to_dict()
    assert estimate.NOT_A_PREDICTION in estimate.radar_plot(data).layout.title.text
    assert estimate.NOT_A_PREDICTION in estimate.timeline_plot(data, "fused").layout.title.text
    assert estimate.NOT_A_PREDICTION in estimate.summary_markdown(data)
    _, csv_row, _, _ = estimate.write_downloads(result, tmp_path)
    assert csv_row is None  # no challenge row from random weights


def test_provenance_names_the_model_and_its_score():
    model = ModelInfo("m", "EMI paper model", "1.0", "trained", "CC BY-NC", "/ckpt", validation_mean_pearson=0.3288)
    banner = estimate.provenance_markdown(model)
    assert "EMI paper model" in banner and "`trained`" in banner and "0.3288" in banner


def test_downloads_hold_the_result(tmp_path):
    result = make_result()
    json_path, csv_path, timeline_path, srt_path = estimate.write_downloads(result, tmp_path)
    assert srt_path is None  # no transcript
    assert json.loads(json_path.read_text()) == result.to_dict()
    with csv_path.open() as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == list(CSV_HEADER)
    assert rows[1][0] == "clip"
    assert [float(cell) for cell in rows[1][1:]] == pytest.approx([result.fused[e] for e in EMOTIONS])
    with timeline_path.open() as handle:
        timeline = list(csv.DictReader(handle))
    assert {row["channel"] for row in timeline} == {"visual", "audio", "fused"}
    assert len(timeline) == 3 * 21


def test_progress_reporter_names_the_stages():
    calls = []
    report = estimate.progress_reporter(lambda fraction, desc: calls.append((fraction, desc)))
    report(0.3, "faces")
    report(0.9, "unknown-stage")
    assert calls == [(0.3, "Tracking the face"), (0.9, "unknown-stage")]


def test_pearson_bars_show_each_emotion_and_the_mean():
    per_emotion = dict(zip(EMOTIONS, [0.1, 0.2, -0.3, 0.4, 0.5, 0.6], strict=True))
    fig = plots.pearson_figure(per_emotion, 0.25, "r")
    assert list(fig.data[0].x) == list(EMOTIONS)
    assert list(fig.data[0].y) == pytest.approx(list(per_emotion.values()))
    assert fig.layout.shapes[0].y0 == 0.25 and "mean 0.2500" in fig.layout.title.text
