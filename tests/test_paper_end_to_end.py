"""The paper's model end to end: emi extract → emi train → emi evaluate → emi predict-split → emi predict.

A synthetic challenge is made from the shared clips: each video has a hidden level ``z`` in [0, 1];
its picture is made brighter with ``z`` and its audio gets a 1 kHz hum whose level relative to the
speech grows with ``z`` (a plain gain would not do: the audio is peak-normalised, as in the paper);
the six labels are monotone functions of ``z``. Backbones are random (a torchvision ResNet18 ``.pth``
and a tiny Wav2Vec2 architecture), yet their features see brightness and hum, so training must
reach a validation Pearson's r far above chance (~0 ± 0.3 on 10 videos), and the checkpoint is served
as ``untrained``.
"""

from __future__ import annotations

import contextlib
import io
import json
import wave
from pathlib import Path

import numpy as np
import pytest

from emi_core.cli import main
from emi_core.emotions import CSV_HEADER_LINE, EMOTIONS
from emi_core.features.cache import FeatureCache
from emi_core.media import open_media, read_audio
from emi_core.models.paper import EMIModel
from emi_core.scoring import load_ground_truth, score_submission, validate_submission
from tests.cli_tools import run_emi
from tests.media_tools import ffmpeg
from tests.test_backbones import save_resnet18_pth, save_tiny_wav2vec2

pytestmark = pytest.mark.slow

SOURCES = (
    "cremad_1001_talk_angry_m.mp4",
    "cremad_1001_talk_happy_m.mp4",
    "cremad_1001_talk_neutral_m.mp4",
    "grid_brbk7n_talk_neutral_f.mp4",
    "grid_s1_bbaf2n_talk_neutral_m.mp4",
)
N_VIDEOS, N_TRAIN, FPS = 30, 20, 5
CORRUPT = "09999"
TINY = ["--d-model", "16", "--heads", "2", "--ff-dim", "32", "--layers", "1", "--max-len", "24"]


def labels_of(z: float) -> np.ndarray:
    """Six intensities, each a different monotone function of the hidden level."""
    return np.array([z, 1 - z, 0.2 + 0.6 * z, 0.9 - 0.7 * z, z**2, np.sqrt(z)])


def write_wav(path: Path, samples: np.ndarray) -> None:
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(16000)
        handle.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())


@pytest.fixture(scope="module")
def challenge(media, tmp_path_factory) -> Path:
    """videos/, train.csv, val.csv and a corrupt video (not in any split)."""
    root = tmp_path_factory.mktemp("challenge")
    videos = root / "videos"
    videos.mkdir()
    speech = [read_audio(open_media(media(name))).astype(np.float64) for name in SOURCES]
    rng = np.random.default_rng(0)
    levels = rng.permutation(np.linspace(0, 1, N_VIDEOS))
    rows = []
    for index, z in enumerate(levels):
        video_id = f"{index + 1:05d}"
        voice = speech[index % len(SOURCES)]
        hum = z * 0.5 * np.abs(voice).max() * np.sin(2 * np.pi * 1000 * np.arange(len(voice)) / 16000)
        mixed = voice + hum
        write_wav(root / "audio.wav", 0.7 * mixed / np.abs(mixed).max())
        ffmpeg("-i", media(SOURCES[index % len(SOURCES)]), "-i", root / "audio.wav",
               "-vf", f"eq=brightness={(z - 0.5) * 0.5:.3f}", "-map", "0:v", "-map", "1:a",
               "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", videos / f"{video_id}.mp4")
        values = np.clip(labels_of(z) + rng.normal(scale=0.02, size=6), 0, 1)
        rows.append(video_id + "," + ",".join(f"{v:.4f}" for v in values))
    (videos / f"{CORRUPT}.mp4").write_bytes(b"\x00" * 4096)
    (root / "train.csv").write_text(CSV_HEADER_LINE + "\n" + "\n".join(rows[:N_TRAIN]) + "\n")
    (root / "val.csv").write_text(CSV_HEADER_LINE + "\n" + "\n".join(rows[N_TRAIN:]) + "\n")
    return root


def emi(*args: str | Path) -> tuple[int, str, str]:
    """Run an ``emi`` command in this process; return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def trained(challenge, tmp_path_factory) -> dict[str, Path]:
    """emi extract (twice: the second run resumes) and emi train; the paths and extract logs."""
    backbones = tmp_path_factory.mktemp("backbones")
    resnet = save_resnet18_pth(backbones / "resnet18.pth")
    tiny = save_tiny_wav2vec2(backbones / "wav2vec2-tiny")
    extract = ["extract", "--videos", challenge / "videos", "--split", challenge / "train.csv",
               "--split", challenge / "val.csv", "--cache", challenge / "cache", "--visual-backbone", resnet,
               "--audio-backbone", f"random:{tiny}", "--fps", FPS, "--device", "cpu", "--no-progress"]
    first = emi(*extract)
    again = emi(*extract)
    code, out, err = emi("train", "--cache", challenge / "cache", "--train", challenge / "train.csv",
                         "--val", challenge / "val.csv", "--out", challenge / "run", "--device", "cpu",
                         "--epochs", "15", "--batch-size", "4", "--lr", "3e-3", *TINY)
    assert code == 0, err
    return {"run": challenge / "run", "first": first, "again": again, "train": out}


def test_extraction_resumes(trained):
    code, out, err = trained["first"]
    assert code == 0, err
    assert f"done: extracted {N_VIDEOS} video(s), skipped 0 already extracted" in out
    code, out, _ = trained["again"]
    assert code == 0 and f"skipped {N_VIDEOS} already extracted; 0 to extract" in out


def test_training_learns_what_the_features_see(trained):
    config = json.loads((trained["run"] / "config.json").read_text())
    validation = config["info"]["metrics"]["validation"]
    assert validation["visual"]["mean"] > 0.8, trained["train"]
    assert validation["audio"]["mean"] > 0.6, trained["train"]
    assert validation["fused"]["mean"] > 0.8, trained["train"]
    assert config["visual"]["features"]["config"]["backbone_format"] == "torchvision"
    assert config["audio"]["features"]["config"]["backbone"] == "random"


def test_evaluate_and_predict_split(trained, challenge):
    run, val = trained["run"], challenge / "val.csv"
    code, out, err = emi(
        "evaluate", "--model", run, "--cache", challenge / "cache", "--split", val, "--json", "--device", "cpu"
    )
    assert code == 0, err
    fused_r = json.loads(out)["pearson"]["fused"]["mean"]

    submission = challenge / "out" / "submission.csv"
    code, out, err = emi("predict-split", "--model", run, "--videos", challenge / "videos", "--ids", val,
                         "--out", submission, "--cache", challenge / "cache", "--device", "cpu", "--no-progress")
    assert code == 0, err
    assert f"cached features: visual {N_VIDEOS - N_TRAIN} of {N_VIDEOS - N_TRAIN}" in out
    assert "random weights" in err
    truth = load_ground_truth(val)
    assert validate_submission(submission, truth).ok
    assert score_submission(submission, truth).mean_pearson == pytest.approx(fused_r, abs=1e-6)

    # Without a cache, features are extracted on the fly: the same rows.
    subset = challenge / "subset.csv"
    subset.write_text("Filename\n" + "\n".join(line.split(",")[0] for line in val.read_text().splitlines()[1:4]) + "\n")
    fresh = challenge / "out" / "fresh.csv"
    code, out, err = emi("predict-split", "--model", run, "--videos", challenge / "videos", "--ids", subset,
                         "--out", fresh, "--device", "cpu", "--no-progress")
    assert code == 0, err
    assert "cached features: visual 0 of 3, audio 0 of 3" in out
    cached_rows = dict(line.split(",", 1) for line in submission.read_text().splitlines()[1:])
    for line in fresh.read_text().splitlines()[1:]:
        video_id, values = line.split(",", 1)
        np.testing.assert_allclose(
            np.array(values.split(","), float), np.array(cached_rows[video_id].split(","), float), atol=1e-4
        )


def test_a_video_without_prediction_blocks_the_submission(trained, challenge):
    ids = challenge / "with_corrupt.csv"
    ids.write_text(f"Filename\n00021\n{CORRUPT}\n00022\n")
    out = challenge / "out" / "blocked.csv"
    code, _, err = emi("predict-split", "--model", trained["run"], "--videos", challenge / "videos", "--ids", ids,
                       "--out", out, "--cache", challenge / "cache", "--device", "cpu", "--no-progress")
    assert code == 2
    assert f"no prediction for {CORRUPT}:" in err and "NOT written" in err
    assert not out.exists()
    partial = out.with_name("blocked.incomplete.csv")
    assert validate_submission(partial).ok and validate_submission(partial).ids == ("00021", "00022")
    missing = out.with_name("blocked.missing.csv").read_text().splitlines()
    assert missing[0] == "Filename,reason" and missing[1].startswith(f"{CORRUPT},")


def test_served_by_emi_predict(trained, challenge):
    """EMIPipeline.from_pretrained(checkpoint) through ``emi predict``: the cached features' values, untrained."""
    proc = run_emi("predict", challenge / "videos" / "00021.mp4", "--model", trained["run"], "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["model"]["kind"] == "untrained" and result["model"]["name"] == "run"
    assert result["model"]["validation_mean_pearson"] > 0.8
    expected = EMIModel.from_pretrained(trained["run"]).predict_cached(FeatureCache(challenge / "cache"), ["00021"])
    np.testing.assert_allclose([result["fused"][e] for e in EMOTIONS], expected["fused"][0], atol=2e-3)
    explanation = result["explanation"]  # a network: channel shares (exact) and moments, no cue breakdown
    assert explanation["kind"] == "channel shares" and "channels" not in explanation
    for emotion in EMOTIONS:
        shares = explanation["fused"][emotion]["channels"]
        assert set(shares) == {"visual", "audio"}
        assert sum(shares.values()) == pytest.approx(result["fused"][emotion], abs=1e-4)
    assert set(explanation["moments"]) == {"visual", "audio"}
