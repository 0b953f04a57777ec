"""The Live tab's pieces without a browser: the panel's HTML and the per-session state."""

from __future__ import annotations

import copy

import numpy as np

from demo.live import LiveSession, live_html
from emi_core.emotions import EMOTIONS
from emi_core.live import LiveUpdate
from emi_core.result import Curve


def _update(fused, face=True, audio=None):
    times = np.linspace(0, 5, 20)
    history = Curve(times, np.tile(np.linspace(0.1, 0.6, 6), (20, 1)))
    return LiveUpdate(5.0, fused, audio, fused, face, 0.031, history)


def test_panel_shows_values_status_and_timeline():
    text = live_html(_update(np.linspace(0.1, 0.6, 6)), updates=42, rate=4.5)
    assert 'data-updates="42"' in text and 'data-face="True"' in text
    assert "face found · no voice · 4.5 updates/s · 31 ms per update" in text
    assert all(emotion in text for emotion in EMOTIONS) and "0.60" in text
    assert text.count("<polyline") == len(EMOTIONS)


def test_panel_without_values_or_input():
    assert 'data-updates="0"' in live_html(None, 0, 0.0) and "Start the webcam" in live_html(None, 0, 0.0)
    text = live_html(_update(None, face=False), updates=3, rate=1.0)
    assert "no face in view" in text and "—" in text


def test_each_session_gets_a_fresh_state_sharing_the_model():
    prior = object()
    template = LiveSession(prior)
    session = copy.deepcopy(template)
    assert session is not template and session.prior is prior and session.analyser is None
    assert session.rate() == 0.0  # one update: no rate yet
    assert session.rate() > 0.0
    stale = LiveSession(prior)
    stale.times.append(-100.0)  # an update long ago does not count
    assert stale.rate() == 0.0
    session.close()
    assert not session.times
