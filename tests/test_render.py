"""Annotated videos: bars that follow the timeline, drawn over the clip, audio kept."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from emi_core.emotions import EMOTIONS
from emi_core.errors import MediaError, ModelError, RenderError
from emi_core.media import load_clip
from emi_core.pipeline import EMIPipeline
from emi_core.render import BAR_COLOURS, draw_panel, render_annotated
from emi_core.result import Curve


@pytest.fixture(scope="module")
def happy(media):
    path = media("cremad_1001_talk_happy_m.mp4")
    return path, EMIPipeline.from_pretrained("default")(path)


def test_bars_are_as_long_as_the_values():
    values = np.array([0.0, 0.25, 0.5, 0.75, 1.0, 0.1])
    frame = draw_panel(np.zeros((720, 1280, 3), np.uint8), values, "fused")
    lengths = [np.all(frame == colour, axis=2).sum(axis=1).max() for colour in BAR_COLOURS]
    full = lengths[4]
    assert full > 100
    np.testing.assert_allclose(np.array(lengths) / full, values, atol=0.02)


def test_curve_values_interpolate_and_hold_the_ends():
    curve = Curve(np.array([0.0, 1.0]), np.array([[0.0] * 6, [1.0] * 6]))
    np.testing.assert_allclose(curve.at(0.5), [0.5] * 6)
    np.testing.assert_allclose(curve.at(5.0), [1.0] * 6)
    assert curve.at(np.array([0.0, 0.5, 2.0])).shape == (3, 6)


def test_render_keeps_video_and_audio(happy, tmp_path):
    path, result = happy
    out = render_annotated(path, result, tmp_path / "annotated.mp4")
    original, annotated = load_clip(path, fps=5), load_clip(out, fps=5)
    assert annotated.frames.shape == original.frames.shape
    assert annotated.audio is not None and abs(annotated.duration_s - original.duration_s) < 0.1
    height = original.frames.shape[1]
    panel = (slice(height - 100, height - 10), slice(10, 200))
    top = (slice(0, 100), slice(0, 480))
    assert np.abs(annotated.frames[2][panel].astype(int) - original.frames[2][panel]).mean() > 20
    assert np.abs(annotated.frames[2][top].astype(int) - original.frames[2][top]).mean() < 8


def test_render_refuses_what_it_cannot_show(happy, media, tmp_path):
    path, result = happy
    untrained = replace(result, model=replace(result.model, kind="untrained"))
    with pytest.raises(ModelError, match="random weights"):
        render_annotated(path, untrained, tmp_path / "x.mp4")
    voice = EMIPipeline.from_pretrained("default")(media("cremad_1002_sad_f.wav"))
    with pytest.raises(MediaError, match="needs a video"):
        render_annotated(media("cremad_1002_sad_f.wav"), voice, tmp_path / "y.mp4")
    with pytest.raises(RenderError, match="no timeline"):
        render_annotated(path, replace(result, audio_timeline=None), tmp_path / "z.mp4", channel="audio")
    assert not any(tmp_path.iterdir())
    assert len(EMOTIONS) == len(BAR_COLOURS)
