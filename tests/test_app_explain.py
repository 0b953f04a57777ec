"""The "Why this number" panel: drawn from the explanation in a result dict."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from demo import explain as panel
from emi_core.emotions import EMOTIONS
from emi_core.explanation import explain
from emi_core.fusion import FusionWeights
from tests.test_app_render import make_result
from tests.test_app_tabs import built_estimate_tab, own_uploads, toasts  # noqa: F401 (fixtures)
from tests.test_explanation import _channel


def _result(additive: bool = True, kind: str = "heuristic") -> dict:
    visual, audio = _channel(30, 1, additive), _channel(10, 2, additive)
    result = make_result(kind=kind)
    result = replace(result, explanation=explain({"visual": visual, "audio": audio}, FusionWeights()))
    return result.to_dict()


def test_additive_chart_stacks_cue_groups_to_the_fused_value():
    data = _result()
    fig = panel.explanation_plot(data)
    assert {trace.name for trace in fig.data} == {"group"}  # the test channels put every cue in one group
    assert fig.layout.barmode == "relative" and "exact contribution" in fig.layout.title.text
    for emotion in EMOTIONS:
        total = sum(trace.x[list(trace.y).index(emotion)] for trace in fig.data)
        assert total == pytest.approx(data["explanation"]["fused"][emotion]["value"], abs=1e-4)
    assert "(visual)" in fig.data[0].customdata[0] and "(audio)" in fig.data[0].customdata[0]


def test_trained_model_chart_shows_channel_shares():
    data = _result(additive=False)
    fig = panel.explanation_plot(data)
    assert [trace.name for trace in fig.data] == ["visual", "audio"]
    assert "share" in fig.layout.title.text
    table = panel.explanation_table(data)
    assert list(table.columns) == list(panel.COLUMNS) and list(table["emotion"]) == list(EMOTIONS)
    assert table["made of"].str.contains("visual").all()
    assert "not a causal attribution" in panel.explanation_note(data)


def test_table_names_the_largest_cues_and_the_peak_moments():
    data = _result()
    table = panel.explanation_table(data)
    joy = table[table["emotion"] == "Joy"].iloc[0]
    top = data["explanation"]["fused"]["Joy"]["cues"][0]
    assert joy["made of"].startswith(f"{top['cue']} {top['contribution']:.3f}")
    assert " s (+" in joy["peak moments"]
    assert float(joy["value"]) == pytest.approx(data["explanation"]["fused"]["Joy"]["value"], abs=1e-3)
    assert "Exact additive contributions" in panel.explanation_note(data)


def test_random_weights_and_missing_explanations_say_so():
    assert "not a prediction" in panel.explanation_plot(_result(kind="untrained")).layout.title.text
    data = make_result().to_dict()
    assert data["explanation"] is None
    assert "No explanation" in panel.explanation_plot(data).layout.annotations[0].text
    assert panel.explanation_table(data).empty and panel.explanation_note(data) == ""
    assert np.isfinite(panel.explanation_plot(_result()).data[0].x).all()


@pytest.mark.usefixtures("toasts", "own_uploads")
def test_panel_beside_the_radar_of_the_estimate_tab(media, tmp_path):
    view = panel.ExplanationPanel()
    tab = built_estimate_tab({"beside_radar": [view]})
    assert set(view.outputs()) <= set(tab.result_outputs())
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(media("cremad_1001_talk_happy_m.mp4").read_bytes())
    outputs = tab.estimate_ui(str(clip), None, False, progress=None)
    groups = {"expression", "action units", "voice", "what is said", "valence"}
    assert {trace.name for trace in outputs[view.plot].data} == groups
    assert "Exact additive contributions" in outputs[view.note]
    assert list(outputs[view.table]["emotion"]) == list(EMOTIONS)
    cleared = tab.cleared()
    assert cleared[view.note] == "" and cleared[view.table] is None
    assert panel.WAITING in cleared[view.plot].layout.annotations[0].text
