"""The paper's model: masking, windows, fusion with a missing channel, timelines, save/load, card, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from huggingface_hub import ModelCard

from emi_core.emotions import EMOTIONS
from emi_core.errors import ModelError
from emi_core.features.cache import AUDIO_EXTRACTOR, VISUAL_EXTRACTOR, ExtractorSpec
from emi_core.fusion import fuse_curves
from emi_core.models.paper import AudioEMIModel, EMIModel, VisualEMIModel, channel_config
from emi_core.models.paper.model_card import build_model_card
from emi_core.models.temporal import TemporalConfig, TemporalRegressor, pad_sequences, sigmoid

VISUAL = ExtractorSpec(VISUAL_EXTRACTOR, {"backbone": "test-resnet18.pth", "fps": 10, "au_names": ["AU01", "AU12"]}, 10)
AUDIO = ExtractorSpec(AUDIO_EXTRACTOR, {"backbone": "tiny-wav2vec2", "layer": 2}, 6)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models run faster on one thread, especially on a shared machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny(dim: int, **overrides) -> TemporalConfig:
    return TemporalConfig(dim, **{"d_model": 16, "heads": 2, "ff_dim": 32, "layers": 2, "max_len": 12, **overrides})


def make_model(channels=("visual", "audio"), fusion=None, seed=0) -> EMIModel:
    torch.manual_seed(seed)
    specs = {"visual": (VISUAL, tiny(VISUAL.dim)), "audio": (AUDIO, tiny(AUDIO.dim))}
    model = EMIModel(**{c: channel_config(*specs[c]) for c in channels}, fusion=fusion)
    return model.eval()


def sequences(dim: int, lengths, seed=1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(n, dim)).astype(np.float32) for n in lengths]


def test_config_validation():
    with pytest.raises(ValueError, match="odd"):
        TemporalConfig(8, kernel_size=4)
    with pytest.raises(ValueError, match="divisible"):
        TemporalConfig(8, d_model=10, heads=4)
    assert TemporalConfig.from_dict(json.loads(json.dumps(tiny(8).to_dict()))) == tiny(8)


def test_padding_does_not_change_outputs():
    """Outputs on real frames do not depend on how much padding follows, nor on what it contains."""
    torch.manual_seed(0)
    model = TemporalRegressor(tiny(6, max_len=64)).eval()
    short, long = sequences(6, [9, 40])
    x, mask = pad_sequences([short, long])
    x[0, 9:] = torch.randn(31, 6) * 100  # garbage in the padding
    with torch.inference_mode():
        padded = model(x, mask)[0]
        alone = model(*pad_sequences([short]))[0]
        frames = model.frame_logits(x, mask)[0, :9]
        frames_alone = model.frame_logits(*pad_sequences([short]))[0]
    torch.testing.assert_close(padded, alone, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(frames, frames_alone, atol=1e-5, rtol=1e-5)


def test_clip_logits_are_the_mean_of_frame_logits():
    torch.manual_seed(0)
    model = TemporalRegressor(tiny(6)).eval()
    x, mask = pad_sequences(sequences(6, [5, 11]))
    with torch.inference_mode():
        clip = model(x, mask)
        frames = model.frame_logits(x, mask)
    torch.testing.assert_close(clip[0], frames[0, :5].mean(0), atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(clip[1], frames[1].mean(0), atol=1e-6, rtol=1e-5)


def test_long_sequences_are_encoded_in_windows():
    torch.manual_seed(0)
    model = TemporalRegressor(tiny(6, max_len=10)).eval()
    (seq,) = sequences(6, [25])  # three windows: 0-8, 8-17, 17-25
    got = model.predict_frames([seq])[0]
    expected = np.concatenate([model.predict_frames([seq[a:b]])[0] for a, b in ((0, 8), (8, 17), (17, 25))])
    np.testing.assert_allclose(got, expected, atol=1e-5)
    with pytest.raises(ValueError, match="empty"):
        model.predict_frames([seq[:0]])


def test_channel_classes_and_predict_shapes():
    model = make_model()
    assert model.channels == ("visual", "audio")
    assert isinstance(model.regressor("visual"), VisualEMIModel) and isinstance(model.regressor("audio"), AudioEMIModel)
    out = model.predict(visual=sequences(10, [7, 30, 3]), audio=sequences(6, [20, 4, 50]))
    for key in ("visual", "audio", "fused"):
        assert out[key].shape == (3, len(EMOTIONS)) and ((out[key] > 0) & (out[key] < 1)).all()
    np.testing.assert_allclose(out["fused"], (out["visual"] + out["audio"]) / 2)


def test_batch_and_single_predictions_agree():
    model = make_model()
    visual = sequences(10, [7, 30, 3])
    batch = model.predict(visual=visual)["visual"]
    singles = np.concatenate([model.predict(visual=[v])["visual"] for v in visual])
    np.testing.assert_allclose(batch, singles, atol=1e-5)


def test_a_missing_channel_leaves_the_other():
    model = make_model()
    visual, audio = sequences(10, [8, 8, 8]), sequences(6, [12, 12, 12])
    both = model.predict(visual=visual, audio=audio)

    only_visual = model.predict(visual=visual)
    assert only_visual["audio"] is None
    np.testing.assert_array_equal(only_visual["fused"], only_visual["visual"])

    mixed = model.predict(visual=[visual[0], None, np.zeros((0, 10))], audio=[audio[0], audio[1], None])
    np.testing.assert_allclose(mixed["fused"][0], both["fused"][0], atol=1e-6)
    assert np.isnan(mixed["visual"][1]).all() and np.isnan(mixed["visual"][2]).all()
    np.testing.assert_allclose(mixed["fused"][1], both["audio"][1], atol=1e-6)
    assert np.isnan(mixed["fused"][2]).all()

    visual_only_model = make_model(channels=("visual",))
    out = visual_only_model.predict(visual=visual, audio=audio)
    assert out["audio"] is None and np.array_equal(out["fused"], out["visual"])


def test_weighted_fusion_uses_per_emotion_weights():
    w = [1.0, 0.0, 0.5, 0.25, 0.75, 0.6]
    model = make_model(fusion={"method": "weighted", "visual": w, "audio": [1 - x for x in w]})
    out = model.predict(visual=sequences(10, [8, 9]), audio=sequences(6, [12, 5]))
    np.testing.assert_allclose(out["fused"], np.array(w) * out["visual"] + (1 - np.array(w)) * out["audio"])
    with pytest.raises(ValueError, match="fusion method"):
        make_model(fusion={"method": "max", "visual": w, "audio": w})


def test_wrong_feature_dim_is_rejected():
    with pytest.raises(ValueError, match=r"\(T, 10\)"):
        make_model().predict(visual=sequences(10 + 1, [5]))
    with pytest.raises(ValueError, match="input_dim"):
        EMIModel(visual=channel_config(VISUAL, tiny(11)))
    with pytest.raises(ValueError, match="at least one channel"):
        EMIModel()


def test_timeline_relates_to_the_clip_output():
    model = make_model()
    visual, audio = sequences(10, [30])[0], sequences(6, [50])[0]
    v_times, a_times = np.arange(30) / 10, np.arange(50) / 50 * 3
    curves = {"visual": model.predict_clip("visual", visual, v_times)[1]}
    curves["audio"] = model.predict_clip("audio", audio, a_times)[1]
    curves["fused"] = fuse_curves(dict(curves), model.fusion)
    clip = model.predict(visual=[visual], audio=[audio])

    assert curves["visual"].values.shape == (30, 6) and curves["audio"].values.shape == (50, 6)
    np.testing.assert_array_equal(curves["visual"].times, v_times)
    np.testing.assert_array_equal(curves["fused"].times, v_times)
    logits = np.log(curves["visual"].values / (1 - curves["visual"].values))
    np.testing.assert_allclose(sigmoid(logits.mean(axis=0)), clip["visual"][0], atol=1e-6)
    assert (curves["visual"].values.min(0) <= clip["visual"][0] + 1e-9).all()
    assert (clip["visual"][0] <= curves["visual"].values.max(0) + 1e-9).all()

    clip_visual, curve = model.predict_clip("visual", visual, v_times)
    np.testing.assert_allclose(clip_visual, clip["visual"][0], atol=1e-6)
    np.testing.assert_allclose(curve.values, curves["visual"].values)

    no_face = fuse_curves({"visual": None, "audio": curves["audio"]}, model.fusion)
    np.testing.assert_array_equal(no_face.times, a_times)
    np.testing.assert_allclose(no_face.values, curves["audio"].values)


def test_save_load_round_trip(tmp_path):
    model = make_model(seed=3)
    model.info = {"name": "tiny", "training": {"dataset": "synthetic"}}
    model.save_pretrained(tmp_path / "ckpt")
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == ["README.md", "config.json", "model.safetensors"]

    config = json.loads((tmp_path / "ckpt" / "config.json").read_text())
    assert config["model_type"] == "emi-paper" and config["format_version"] == 1
    assert config["visual"]["features"] == VISUAL.to_dict() and config["audio"]["features"]["config"]["layer"] == 2
    assert config["visual"]["model"]["d_model"] == 16 and config["fusion"]["method"] == "mean"

    loaded = EMIModel.from_pretrained(tmp_path / "ckpt")
    assert not loaded.training and loaded.info == model.info and loaded.features == model.features
    visual, audio = sequences(10, [5, 40]), sequences(6, [70, 3])
    before, after = model.predict(visual=visual, audio=audio), loaded.predict(visual=visual, audio=audio)
    for key in ("visual", "audio", "fused"):
        np.testing.assert_array_equal(before[key], after[key])

    model.save_pretrained(tmp_path / "ckpt")  # saving again over a checkpoint replaces every file
    assert EMIModel.from_pretrained(str(tmp_path / "ckpt")).info == model.info


def test_loading_errors_are_model_errors(tmp_path, monkeypatch):
    with pytest.raises(ModelError, match="does not exist"):
        EMIModel.from_pretrained(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="config.json and model.safetensors missing"):
        EMIModel.from_pretrained(tmp_path / "empty")

    make_model().save_pretrained(tmp_path / "ckpt")
    config_path = tmp_path / "ckpt" / "config.json"
    config = json.loads(config_path.read_text())
    config["visual"]["model"]["d_model"] = 32
    config_path.write_text(json.dumps(config))
    with pytest.raises(ModelError, match="weights do not fit config.json"):
        EMIModel.from_pretrained(tmp_path / "ckpt")
    config_path.write_text(json.dumps({**config, "model_type": "bert"}))
    with pytest.raises(ModelError, match="not an EMI studio paper-model checkpoint"):
        EMIModel.from_pretrained(tmp_path / "ckpt")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="not a local folder and the Hugging Face Hub could not provide it"):
        EMIModel.from_pretrained("someone/no-such-emi-model")


def test_model_card_content():
    model = make_model()
    metrics = {
        row: {**{e: 0.1 * (i + 1) for i, e in enumerate(EMOTIONS)}, "mean": 0.35}
        for row in ("visual", "audio", "fused")
    }
    split = {"file": "val.csv", "videos": 20, "sha256": "ab" * 32, "used": {"visual": 19, "audio": 20}}
    model.info = {
        "name": "paper-run",
        "training": {
            "dataset": "Hume-Vidmimic2",
            "train_split": {**split, "file": "train.csv"},
            "val_split": split,
            "loss": "mse+pcc",
            "seed": 7,
            "best_epoch": {"visual": 3, "audio": 5},
        },
        "metrics": {"validation": metrics, "validation_videos": {"visual": 19, "audio": 20, "fused": 20}},
    }
    card = build_model_card(model.config)
    text = str(card)
    assert text.startswith("---\n")
    parsed = ModelCard(text)
    assert parsed.data.library_name == "emi-studio" and parsed.data.license == "other"
    assert len(parsed.data.eval_results) == 3 * 7
    joy = [r for r in parsed.data.eval_results if r.metric_config == "fused/Joy"][0]
    assert joy.metric_value == pytest.approx(0.6) and joy.dataset_split == "val.csv"
    for needle in (
        "# paper-run",
        "test-resnet18.pth",
        "tiny-wav2vec2",
        "layer: `2`",
        "`train.csv` (20 videos",
        "| Fused | 0.1000 | 0.2000",
        "0.3500 |",
        "## Limits",
        "## Licence",
        "MIT",
        "seed: `7`",
    ):
        assert needle in text, needle


def test_push_to_hub_uploads_the_checkpoint_folder(monkeypatch):
    """``push_to_hub`` (from ``PyTorchModelHubMixin``) uploads what ``save_pretrained`` writes."""
    import huggingface_hub.hub_mixin

    uploaded = {}

    class FakeApi:
        def __init__(self, token=None):
            pass

        def create_repo(self, repo_id, private=None, exist_ok=False):
            return type("Repo", (), {"repo_id": repo_id})()

        def upload_folder(self, *, repo_id, folder_path, **kwargs):
            uploaded.update({p.name: p.read_bytes() for p in folder_path.iterdir()}, repo_id=repo_id)
            return "https://huggingface.co/fake/commit"

    monkeypatch.setattr(huggingface_hub.hub_mixin, "HfApi", FakeApi)
    model = make_model()
    model.info = {"name": "pushed"}
    assert model.push_to_hub("team/emi-paper") == "https://huggingface.co/fake/commit"
    assert uploaded.pop("repo_id") == "team/emi-paper"
    assert sorted(uploaded) == ["README.md", "config.json", "model.safetensors"]
    assert json.loads(uploaded["config.json"])["info"] == {"name": "pushed"}
    assert b"# pushed" in uploaded["README.md"]
