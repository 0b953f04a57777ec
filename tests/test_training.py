"""``emi train`` / ``emi evaluate`` on a synthetic feature cache with a planted signal.

Each video has a hidden 4-d state ``z``; its labels are ``sigmoid(z · M)`` plus noise, and both
channels see ``z`` (differently mixed) in four feature dims under per-frame noise. A model that
learns anything real reaches a validation Pearson's r far above the ~0 of chance.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from emi_core.cli import main
from emi_core.emotions import CSV_HEADER_LINE, EMOTIONS
from emi_core.errors import TrainingError
from emi_core.features.cache import AUDIO_EXTRACTOR, VISUAL_EXTRACTOR, ExtractorSpec, FeatureCache
from emi_core.models.paper import EMIModel
from emi_core.training import TrainConfig, evaluate_model, make_loss, pcc_loss, read_split, train
from emi_core.training.data import epoch_batches
from emi_core.training.fusion import fit_weighted
from tests.test_models import one_thread  # noqa: F401  (autouse: tiny models run fastest on one thread)

N_VIDEOS, N_TRAIN = 72, 48
VISUAL_DIM, AUDIO_DIM = 12, 8
NO_AUDIO = ("00003", "00050")  # absent from the audio store (one train, one validation video)
NO_FACE = "00005"  # stored with an empty visual sequence
TINY = ["--d-model", "16", "--heads", "2", "--ff-dim", "32", "--layers", "1", "--max-len", "24", "--dropout", "0.1"]
TINY_MODEL = {"d_model": 16, "heads": 2, "ff_dim": 32, "layers": 1, "max_len": 24, "dropout": 0.1}


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """A cache (visual + audio stores), train.csv and val.csv."""
    root = tmp_path_factory.mktemp("emi-data")
    rng = np.random.default_rng(0)
    cache = FeatureCache(root / "cache")
    visual = cache.store(ExtractorSpec(VISUAL_EXTRACTOR, {"backbone": "test-resnet18.pth", "fps": 10}, VISUAL_DIM))
    audio = cache.store(ExtractorSpec(AUDIO_EXTRACTOR, {"backbone": "tiny-wav2vec2", "layer": 2}, AUDIO_DIM))
    mixing = rng.normal(size=(4, 6))
    rows = []
    for index in range(N_VIDEOS):
        video_id = f"{index:05d}"
        z = rng.normal(size=4)
        labels = np.clip(1 / (1 + np.exp(-0.8 * z @ mixing)) + rng.normal(scale=0.05, size=6), 0, 1)
        rows.append(video_id + "," + ",".join(f"{v:.5f}" for v in labels))
        n_frames = 0 if video_id == NO_FACE else int(rng.integers(8, 40))
        frames = rng.normal(size=(n_frames, VISUAL_DIM))
        frames[:, :4] += z
        visual.write(video_id, frames, np.arange(n_frames) / 10)
        if video_id not in NO_AUDIO:
            n_steps = int(rng.integers(10, 50))
            steps = rng.normal(size=(n_steps, AUDIO_DIM))
            steps[:, :4] += z[::-1]
            audio.write(video_id, steps, np.arange(n_steps) / 50)
    (root / "train.csv").write_text(CSV_HEADER_LINE + "\n" + "\n".join(rows[:N_TRAIN]) + "\n")
    (root / "val.csv").write_text(CSV_HEADER_LINE + "\n" + "\n".join(rows[N_TRAIN:]) + "\n")
    return root


def train_args(data: Path, out: Path, *extra: str) -> list[str]:
    return [
        "train",
        "--cache",
        str(data / "cache"),
        "--train",
        str(data / "train.csv"),
        "--val",
        str(data / "val.csv"),
        "--out",
        str(out),
        "--device",
        "cpu",
        "--batch-size",
        "8",
        "--lr",
        "3e-3",
        *TINY,
        *extra,
    ]


@pytest.fixture(scope="module")
def trained(data, tmp_path_factory):
    """One run of ``emi train`` through the CLI: (out folder, its stdout)."""
    out = tmp_path_factory.mktemp("run") / "paper"
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(train_args(data, out, "--epochs", "6", "--dataset", "synthetic"))
    assert code == 0, buffer.getvalue()
    return out, buffer.getvalue()


def read_metrics(out: Path) -> list[dict[str, str]]:
    with open(out / "metrics.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_training_learns_the_planted_signal(trained):
    out, stdout = trained
    config = json.loads((out / "config.json").read_text())
    validation = config["info"]["metrics"]["validation"]
    assert (
        validation["fused"]["mean"] > 0.5 and validation["visual"]["mean"] > 0.5 and validation["audio"]["mean"] > 0.5
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md",
        "config.json",
        "last.pt",
        "metrics.csv",
        "model.safetensors",
    ]
    assert f"visual: {N_TRAIN - 1} of {N_TRAIN} train videos (0 not in the cache, 1 without frames)" in stdout
    assert f"audio: {N_TRAIN - 1} of {N_TRAIN} train videos (1 not in the cache, 0 without frames)" in stdout
    assert "audio: 23 of 24 validation videos (1 not in the cache, 0 without frames)" in stdout
    assert "epoch 6:" in stdout and "best checkpoint:" in stdout and "Fused" in stdout


def test_metrics_csv_has_one_row_per_epoch(trained):
    out, _ = trained
    rows = read_metrics(out)
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    for row in rows:
        for name in ("visual", "audio", "fused"):
            values = [float(row[f"{name}_val_{e}"]) for e in EMOTIONS]
            assert -1 <= float(row[f"{name}_val_mean"]) <= 1
            assert float(row[f"{name}_val_mean"]) == pytest.approx(np.mean(values), abs=1e-5)
        assert float(row["visual_train_loss"]) > 0 and float(row["audio_lr"]) > 0
    assert float(rows[-1]["visual_lr"]) < float(rows[0]["visual_lr"])  # cosine schedule
    assert rows[0]["improved"] == "visual+audio"
    best = json.loads((out / "config.json").read_text())["info"]["training"]["best_epoch"]
    for channel in ("visual", "audio"):
        scores = [float(r[f"{channel}_val_mean"]) for r in rows]
        assert best[channel] == 1 + int(np.argmax(scores))


def test_evaluate_reproduces_the_recorded_validation_scores(trained, data, capsys):
    out, _ = trained
    assert (
        main(
            [
                "evaluate",
                "--model",
                str(out),
                "--cache",
                str(data / "cache"),
                "--split",
                str(data / "val.csv"),
                "--json",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    recorded = json.loads((out / "config.json").read_text())["info"]["metrics"]
    assert report["split"] == "val.csv" and report["n_videos"] == N_VIDEOS - N_TRAIN
    assert report["videos"] == {"visual": 24, "audio": 23, "fused": 24} == recorded["validation_videos"]
    for row in ("visual", "audio", "fused"):
        for key in (*EMOTIONS, "mean"):
            assert report["pearson"][row][key] == pytest.approx(recorded["validation"][row][key], abs=1e-6)

    assert (
        main(["evaluate", "--model", str(out), "--cache", str(data / "cache"), "--split", str(data / "val.csv")]) == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["Pearson", "r", *" ".join(EMOTIONS).split(), "Mean", "N"]
    fused = lines[4].split()
    assert fused[0] == "Fused" and fused[-1] == "24"
    assert float(fused[-2]) == pytest.approx(report["pearson"]["fused"]["mean"], abs=1e-4)


def test_the_model_card_describes_the_run(trained):
    out, _ = trained
    text = (out / "README.md").read_text()
    for needle in (
        "library_name: emi-studio",
        "model-index",
        "`train.csv` (48 videos; with features: visual 47, audio 47",
        "`val.csv` (24 videos",
        "test-resnet18.pth",
        "tiny-wav2vec2",
        "Data: synthetic",
        "| Fused |",
        "Videos scored per row: visual 24, audio 23, fused 24",
        "## Limits",
        "## Licence",
    ):
        assert needle in text, needle


def test_resume_continues_exactly(data, tmp_path):
    config = TrainConfig(epochs=3, batch_size=8, lr=3e-3, model=TINY_MODEL)

    def run(out: str, config: TrainConfig = config, on_epoch=None):
        cache = FeatureCache(data / "cache")
        return train(config, cache, data / "train.csv", data / "val.csv", tmp_path / out, log=lambda line: None,
                     on_epoch=on_epoch)  # fmt: skip

    def interrupt_after_epoch_2(record):
        if record.epoch == 2:
            raise KeyboardInterrupt

    run("whole")
    with pytest.raises(KeyboardInterrupt):
        run("parts", on_epoch=interrupt_after_epoch_2)
    assert len(read_metrics(tmp_path / "parts")) == 2
    epochs = []
    result = run("parts", on_epoch=lambda r: epochs.append(r.epoch))
    assert epochs == [3] and result.resumed_from == 2 and result.epochs_run == 3

    whole_parts = ("whole", "parts")
    whole, parts = (load_file(tmp_path / name / "model.safetensors") for name in whole_parts)
    assert whole.keys() == parts.keys() and all(torch.equal(whole[k], parts[k]) for k in whole)
    last_whole, last_parts = (torch.load(tmp_path / n / "last.pt", weights_only=True)["model"] for n in whole_parts)
    assert all(torch.equal(last_whole[k], last_parts[k]) for k in last_whole)
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    assert strip(read_metrics(tmp_path / "whole")) == strip(read_metrics(tmp_path / "parts"))

    again = run("parts")
    assert again.epochs_run == 3 and len(read_metrics(tmp_path / "parts")) == 3
    with pytest.raises(TrainingError, match=r"holds a different run \(config.seed: 0 → 1\)"):
        run("parts", TrainConfig(epochs=3, batch_size=8, lr=3e-3, seed=1, model=TINY_MODEL))


def test_interrupted_cli_run_exits_130_and_resumes(data, tmp_path, monkeypatch, capsys):
    from emi_core.training import trainer

    original = trainer._write_metrics
    calls = []

    def write_then_interrupt(path, history):
        original(path, history)
        calls.append(len(history))
        if len(history) == 1 and len(calls) == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(trainer, "_write_metrics", write_then_interrupt)
    args = train_args(data, tmp_path / "run", "--epochs", "2", "--channels", "audio")
    assert main(args) == 130
    assert main(args) == 0
    assert "resuming" in capsys.readouterr().out
    assert [r["epoch"] for r in read_metrics(tmp_path / "run")] == ["1", "2"]


def test_single_channel_run_and_early_stopping(data, tmp_path, capsys):
    out = tmp_path / "visual"
    assert main(train_args(data, out, "--channels", "visual", "--epochs", "12", "--patience", "1", "--lr", "0.05")) == 0
    model = EMIModel.from_pretrained(out)
    assert model.channels == ("visual",)
    rows = read_metrics(out)
    assert "audio_train_loss" not in rows[0]
    best = model.info["training"]["best_epoch"]["visual"]
    assert len(rows) == best + 1 < 12  # patience 1: the run ends one epoch after the best
    stdout = capsys.readouterr().out
    assert f"epoch {best + 1}:" in stdout and "(stopped: visual)" in stdout and f"epoch {best + 2}:" not in stdout
    assert rows[-1]["improved"] == "" and rows[best - 1]["improved"] == "visual"
    evaluation = evaluate_model(model, FeatureCache(data / "cache"), read_split(data / "val.csv"))
    assert set(evaluation.pearson) == {"visual", "fused"}
    assert evaluation.pearson["fused"] == evaluation.pearson["visual"]


def test_weighted_fusion_is_fitted_on_validation(data, tmp_path):
    out = tmp_path / "weighted"
    assert main(train_args(data, out, "--epochs", "2", "--fusion", "weighted")) == 0
    fusion = EMIModel.from_pretrained(out).fusion
    assert fusion.method == "weighted"
    visual, audio = fusion.weight("visual"), fusion.weight("audio")
    assert ((visual >= 0) & (visual <= 1)).all() and np.allclose(visual + audio, 1)


def test_fit_fusion_weights_prefers_the_informative_channel():
    rng = np.random.default_rng(0)
    labels = rng.random((60, 6))
    visual = labels + rng.normal(scale=0.05, size=labels.shape)
    audio = rng.random((60, 6))
    audio[:, 0] = labels[:, 0]  # audio is perfect for the first emotion
    weights = fit_weighted({"visual": visual, "audio": audio}, labels).weight("visual")
    assert weights[0] == 0.0 and (weights[1:] >= 0.9).all()
    assert (fit_weighted({"visual": visual[:2], "audio": audio[:2]}, labels[:2]).weight("visual") == 0.5).all()


def test_losses():
    target = torch.rand(16, 6)
    assert float(pcc_loss(target, target)) == pytest.approx(0.0, abs=1e-5)
    assert float(pcc_loss(1 - target, target)) == pytest.approx(2.0, abs=1e-5)
    assert float(make_loss("mse")(target, target)) == 0.0
    assert float(make_loss("mse+pcc")(target * 0.5, target)) == pytest.approx(
        float(((target * 0.5 - target) ** 2).mean()), abs=1e-5
    )
    constant = torch.full((16, 6), 0.3, requires_grad=True)
    loss = pcc_loss(constant, target)
    loss.backward()
    assert float(loss.detach()) == pytest.approx(1.0) and torch.isfinite(constant.grad).all()
    with pytest.raises(ValueError, match="unknown loss"):
        make_loss("ccc")


def test_epoch_batches_are_a_function_of_seed_and_epoch():
    a = epoch_batches(10, 4, seed=0, epoch=1, stream=0)
    assert a == epoch_batches(10, 4, seed=0, epoch=1, stream=0)
    assert a != epoch_batches(10, 4, seed=0, epoch=2, stream=0)
    assert [len(b) for b in a] == [4, 4, 2]
    assert sorted(i for batch in a for i, _ in batch) == list(range(10))
    assert all(0 <= u < 1 for batch in a for _, u in batch)


def test_user_errors_exit_2(data, tmp_path, capsys):
    assert main(train_args(data, tmp_path / "x", "--channels", "visual,face")) == 2
    assert "channels must be some of visual, audio" in capsys.readouterr().err
    empty_cache = tmp_path / "empty-cache"
    empty_cache.mkdir()
    args = train_args(data, tmp_path / "x")
    args[args.index("--cache") + 1] = str(empty_cache)
    assert main(args) == 2
    assert "has no visual features; it has: nothing" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("Filename,Joy\n00001,0.5\n")
    args = train_args(data, tmp_path / "x")
    args[args.index("--train") + 1] = str(bad)
    assert main(args) == 2
    assert f"split {bad} is not a usable labelled challenge CSV" in capsys.readouterr().err
    assert (
        main(
            [
                "evaluate",
                "--model",
                str(tmp_path / "none"),
                "--cache",
                str(data / "cache"),
                "--split",
                str(data / "val.csv"),
            ]
        )
        == 2
    )
    assert "does not exist" in capsys.readouterr().err


def test_evaluate_needs_the_models_feature_stores(trained, data, tmp_path, capsys):
    out, _ = trained
    partial = tmp_path / "cache"
    shutil.copytree(data / "cache", partial)
    shutil.rmtree(FeatureCache(partial).store_for("audio").path)
    assert main(["evaluate", "--model", str(out), "--cache", str(partial), "--split", str(data / "val.csv")]) == 2
    assert "has no features from extractor audio-wav2vec2-" in capsys.readouterr().err
