"""The EMI prior's text channel: what is said moves the matching emotion (espeak-ng speech, real weights)."""

import numpy as np
import pytest

from emi_core.emotions import EMOTIONS
from emi_core.models.prior.mapping import TEXT_TABLE
from emi_core.models.prior.phrases import PROTOTYPES, cue_name
from emi_core.pipeline import EMIPipeline
from tests.media_tools import speak, speak_over

NEUTRAL = "The bus to the station leaves at nine from the second stop."
SAID = {
    "Admiration": "Your painting is stunning, I really admire your talent.",
    "Amusement": "Ha ha, that is the funniest joke I have ever heard.",
    "Empathic Pain": "I am so sorry about your dog, that must hurt so much.",
}


@pytest.fixture(scope="module")
def pipeline():
    return EMIPipeline.from_pretrained()


@pytest.fixture(scope="module")
def results(pipeline, tmp_path_factory):
    folder = tmp_path_factory.mktemp("said")
    sentences = {"neutral": NEUTRAL, **SAID}
    return {name: pipeline(speak(text, folder / f"{name.replace(' ', '_')}.wav")) for name, text in sentences.items()}


def test_the_table_has_one_phrase_cue_per_emotion():
    assert set(TEXT_TABLE) == set(EMOTIONS) == set(PROTOTYPES)
    for emotion, cues in TEXT_TABLE.items():
        assert cue_name(emotion) in dict(cues) and sum(w for _, w in cues) == pytest.approx(1.0)


@pytest.mark.slow
@pytest.mark.parametrize("emotion", list(SAID))
def test_a_sentence_moves_its_emotion_above_a_neutral_one(results, emotion):
    said, neutral = results[emotion], results["neutral"]
    words = {w.text.lower().strip(".,!?") for w in said.transcript.words}
    assert {"sorry", "funniest", "admire"} & words, said.transcript.text
    assert said.text[emotion] > neutral.text[emotion] + 0.2
    assert said.text[emotion] == max(said.text.values())  # its own emotion leads the text channel
    assert said.fused[emotion] > neutral.fused[emotion]
    assert said.model.kind == "heuristic"


@pytest.mark.slow
def test_the_text_channel_is_in_the_result_with_its_timeline_and_cues(results):
    result = results["Admiration"]
    data = result.to_dict()
    assert data["text"] == result.text and data["transcript"]["text"] == result.transcript.text
    words = data["transcript"]["segments"][0]["words"]
    assert words and all({"text", "start", "end", "probability"} <= set(w) for w in words)
    timeline = data["timeline"]["text"]
    assert len(timeline["time_s"]) > 0 and max(timeline["time_s"]) <= result.quality.duration_s
    fused = np.mean([result.audio["Admiration"], result.text["Admiration"]])
    assert result.fused["Admiration"] == pytest.approx(fused, abs=1e-3)  # the average of the channels with input
    cues = {c["cue"] for c in data["explanation"]["fused"]["Admiration"]["cues"]}
    assert "says_admiration" in cues


@pytest.mark.slow
def test_no_words_no_text_channel(pipeline, media, tmp_path):
    tone = pipeline(media("synthetic_noface.mp4"))
    assert tone.text is None and tone.transcript is not None and tone.transcript.is_empty
    assert tone.to_dict()["timeline"]["text"] is None
    spoken = pipeline(speak_over(media("grid_s1_bbaf2n_talk_neutral_m.mp4"), SAID["Amusement"], tmp_path / "a.mp4"))
    assert spoken.visual is not None and spoken.text is not None and spoken.text["Amusement"] > 0.3
