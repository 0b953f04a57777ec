"""Checkpoints trained on some channels only, untrained checkpoints in ``emi predict``, path-like model
names and progress (issue 13, defects 4–6 and single-clip progress)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from emi_core.emotions import EMOTIONS
from tests.cli_tools import assert_one_line_error, run_emi
from tests.test_backbones import save_resnet18_pth

pytestmark = pytest.mark.slow

FPS = 5
LOUD_TALK = "cremad_1001_talk_angry_m.mp4"
TINY = {"d_model": 16, "heads": 2, "ff_dim": 32, "layers": 1, "max_len": 24}


def visual_only_checkpoint(folder: Path, backbone: str) -> Path:
    """A paper-model checkpoint with a visual channel only (its regressor untrained: numbers made here)."""
    from emi_core.features.extract import Extractors
    from emi_core.models.paper import EMIModel, channel_config
    from emi_core.models.temporal_config import TemporalConfig

    made = Extractors.from_options(["visual"], visual_backbone=backbone, fps=FPS)
    model = EMIModel(**{c: channel_config(s, TemporalConfig(s.dim, **TINY)) for c, s in made.specs.items()})
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("checkpoints")
    resnet = save_resnet18_pth(root / "resnet18.pth")
    return {
        "trained": visual_only_checkpoint(root / "visual-only", str(resnet)),
        "untrained": visual_only_checkpoint(root / "random-visual", "random"),
    }


def test_a_model_without_an_audio_channel_says_so(checkpoints, media):
    """Not "no audible audio" for a loud clip: the model lacks the channel, and the page says which."""
    from demo import estimate
    from emi_core.pipeline import EMIPipeline

    pipeline = EMIPipeline.from_pretrained(checkpoints["trained"])
    assert pipeline.model.kind == "trained" and pipeline.model.channels == ("visual",)
    result = pipeline(media(LOUD_TALK))
    assert result.audio is None and result.visual is not None and result.quality.speech_ratio > 0.3
    text = " | ".join(result.warnings)
    assert "this model has no audio channel" in text
    assert "no audible audio" not in text and "no audio estimate" not in text
    data = result.to_dict()
    assert list(data["model"]["channels"]) == ["visual"]
    names = [trace.name for trace in estimate.radar_plot(data).data]
    assert "audio (not in this model)" in names and "audio (no input)" not in names
    figure = estimate.timeline_plot(data, "audio")
    assert "this model has no audio channel" in figure.layout.annotations[0].text


def test_predict_with_an_untrained_model_warns_and_writes_no_csv(checkpoints, media, tmp_path):
    clip = media(LOUD_TALK)
    table = run_emi("predict", clip, "--model", checkpoints["untrained"])
    assert table.returncode == 0, table.stderr
    assert "has random weights — not a prediction" in table.stdout.splitlines()[1]
    as_json = run_emi("predict", clip, "--model", checkpoints["untrained"], "--json")
    assert as_json.returncode == 0 and "has random weights — not a prediction" in as_json.stderr
    out = tmp_path / "out.csv"
    refused = run_emi("predict", clip, "--model", checkpoints["untrained"], "--csv", out)
    assert_one_line_error(refused, "random weights", "no challenge CSV")
    assert not out.exists()


@pytest.mark.parametrize("with_parent", [False, True], ids=["runs-absent", "runs-present"])
def test_a_missing_path_like_model_fails_at_once(media, tmp_path, with_parent):
    """``--model runs/paper`` that does not exist: one line, no half minute of Hub retries."""
    if with_parent:
        (tmp_path / "runs").mkdir()
    clip, online = media("cremad_1002_sad_f.wav"), {"HF_HUB_OFFLINE": "0"}
    started = time.monotonic()
    baseline = run_emi("predict", clip, "--model", "./runs/paper", cwd=tmp_path, env=online)  # no Hub involved
    startup = time.monotonic() - started
    assert_one_line_error(baseline, "runs/paper")
    started = time.monotonic()
    proc = run_emi("predict", clip, "--model", "runs/paper", cwd=tmp_path, env=online)
    elapsed = time.monotonic() - started
    assert_one_line_error(proc, "runs/paper")
    assert "Retrying" not in proc.stderr and elapsed < startup + 10, (elapsed, startup)  # retries took 30 s
    if with_parent:
        assert "model folder runs/paper does not exist" in proc.stderr


def test_one_long_clip_shows_its_progress(media, capsys):
    from emi_core.pipeline import EMIPipeline
    from emi_core.prediction import predict_clips

    clip = media("obama_weekly_address_talk_neutral_12s.mp4")
    batch = predict_clips(EMIPipeline.from_pretrained("default"), [clip], show_progress=True)
    assert list(batch.results[0].fused) == list(EMOTIONS)
    err = capsys.readouterr().err.splitlines()  # not a terminal: a line every 10 %
    lines = [line for line in err if line.startswith(f"{clip.name}: ")]
    assert lines and "(100%)" in lines[-1]
    assert any("stage=faces" in line for line in lines)
    assert len(lines) >= 5  # it moved through the clip, not only 0 and 100
