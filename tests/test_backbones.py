"""Backbones of the paper's model: ResNet18 in every accepted format, Wav2Vec2 layers, chunking, errors.

Every backbone is built here with random weights and saved the way real ones are distributed
(torchvision ``.pth``, timm folder, transformers ``save_pretrained`` folder), then loaded through the
same code paths as a downloaded one.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from safetensors.torch import save_file
from transformers import ResNetConfig, ResNetModel, Wav2Vec2Config, Wav2Vec2Model

from emi_core.errors import ModelError
from emi_core.features.audio import load_wav2vec2
from emi_core.features.backbones import looks_like_hub_id, sha256_files
from emi_core.features.cache import AUDIO_EXTRACTOR, VISUAL_EXTRACTOR, ExtractorSpec
from emi_core.features.visual import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    dual_features,
    load_face_embedder,
    torchvision_resnet18,
)

TINY_WAV2VEC2 = dict(
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=64,
    conv_dim=(32, 32, 32),
    conv_stride=(5, 8, 8),
    conv_kernel=(10, 8, 8),
    num_conv_pos_embeddings=16,
    num_conv_pos_embedding_groups=4,
)
"""A 2-layer Wav2Vec2 with the real 20 ms frame stride (5 × 8 × 8 = 320 samples)."""


def save_tiny_wav2vec2(folder: Path, seed: int = 0, **overrides) -> Path:
    """A random tiny Wav2Vec2 saved with ``save_pretrained`` (config.json + model.safetensors)."""
    torch.manual_seed(seed)
    Wav2Vec2Model(Wav2Vec2Config(**{**TINY_WAV2VEC2, **overrides})).save_pretrained(folder)
    return folder


def save_resnet18_pth(path: Path, seed: int = 0) -> Path:
    """A randomly initialised torchvision ResNet18 state dict (with its fc layer), as torchvision ships it."""
    torch.manual_seed(seed)
    model = torchvision.models.resnet18(weights=None)
    _randomise_batchnorm(model)
    torch.save(model.state_dict(), path)
    return path


def _randomise_batchnorm(model: torch.nn.Module) -> None:
    """Non-trivial BatchNorm statistics, so that a wrong key mapping cannot go unnoticed."""
    generator = torch.Generator().manual_seed(1)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.copy_(torch.randn(module.num_features, generator=generator) * 0.1)
            module.running_var.copy_(torch.rand(module.num_features, generator=generator) + 0.5)
            module.weight.data.copy_(torch.rand(module.num_features, generator=generator) + 0.5)


@pytest.fixture(scope="module")
def resnet_pth(tmp_path_factory) -> Path:
    return save_resnet18_pth(tmp_path_factory.mktemp("resnet") / "resnet18-test.pth")


@pytest.fixture(scope="module")
def crops() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(5, 112, 112, 3), dtype=np.uint8)


def reference_embeddings(state: dict, crops: np.ndarray, mean=IMAGENET_MEAN, std=IMAGENET_STD) -> np.ndarray:
    """The embedding computed by hand: torchvision ResNet18 without fc on normalised crops."""
    network = torchvision_resnet18()
    network.load_state_dict({k: v for k, v in state.items() if not k.startswith("fc.")})
    x = torch.from_numpy(crops).permute(0, 3, 1, 2).float() / 255
    x = (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    with torch.inference_mode():
        return network.eval()(x).numpy()


def test_torchvision_state_dict(resnet_pth, crops):
    embedder = load_face_embedder(str(resnet_pth))
    out = embedder(crops)
    assert out.shape == (5, 512) and out.dtype == np.float32
    np.testing.assert_allclose(out, reference_embeddings(torch.load(resnet_pth), crops), rtol=1e-4, atol=1e-4)
    description = embedder.description
    assert description["backbone"] == str(resnet_pth.resolve())
    assert description["backbone_format"] == "torchvision"
    assert not ExtractorSpec(VISUAL_EXTRACTOR, description, embedder.dim).random_weights
    assert description["weights_sha256"] == sha256_files([resnet_pth])
    assert description["input_size"] == 112


def test_wrapped_and_prefixed_state_dict(resnet_pth, crops, tmp_path):
    state = torch.load(resnet_pth)
    wrapped = tmp_path / "checkpoint.pt"
    torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}, "epoch": 3}, wrapped)
    np.testing.assert_allclose(load_face_embedder(str(wrapped))(crops), reference_embeddings(state, crops), atol=1e-4)


def test_timm_folder(resnet_pth, crops, tmp_path):
    """timm's resnet18 keys are torchvision's; the folder's pretrained_cfg sets the normalisation."""
    folder = tmp_path / "timm-resnet18"
    folder.mkdir()
    state = torch.load(resnet_pth)
    save_file({k: v.contiguous() for k, v in state.items()}, folder / "model.safetensors")
    cfg = {"architecture": "resnet18", "num_classes": 1000, "pretrained_cfg": {"mean": [0.5] * 3, "std": [0.25] * 3}}
    (folder / "config.json").write_text(json.dumps(cfg))
    embedder = load_face_embedder(str(folder))
    assert embedder.description["backbone_format"] == "timm" and embedder.description["std"] == [0.25] * 3
    expected = reference_embeddings(state, crops, mean=(0.5,) * 3, std=(0.25,) * 3)
    np.testing.assert_allclose(embedder(crops), expected, rtol=1e-4, atol=1e-4)

    (folder / "config.json").write_text(json.dumps({**cfg, "architecture": "resnet50.a1_in1k"}))
    with pytest.raises(ModelError, match="resnet50.a1_in1k.*not resnet18"):
        load_face_embedder(str(folder))


def torchvision_to_transformers(state: dict) -> dict:
    """Rename torchvision ResNet18 weights to transformers' ResNetModel layout (the same computation)."""
    renamed = {}
    for key, value in state.items():
        if key.startswith("fc."):
            continue
        parts = key.split(".")
        if parts[0] in ("conv1", "bn1"):
            name = "embedder.embedder." + ("convolution" if parts[0] == "conv1" else "normalization") + "." + parts[1]
        else:
            stage, block, part = int(parts[0][5:]) - 1, parts[1], parts[2]
            prefix = f"encoder.stages.{stage}.layers.{block}."
            if part == "downsample":
                name = prefix + "shortcut." + ("convolution" if parts[3] == "0" else "normalization") + "." + parts[4]
            else:
                index = int(part[-1]) - 1
                name = (
                    prefix
                    + f"layer.{index}."
                    + ("convolution" if part.startswith("conv") else "normalization")
                    + "."
                    + parts[3]
                )
        renamed[name] = value
    return renamed


def test_transformers_folder_matches_torchvision(resnet_pth, crops, tmp_path):
    """A ResNetModel folder (microsoft/resnet-18 layout) holding the same weights gives the same embeddings."""
    state = torch.load(resnet_pth)
    config = ResNetConfig(depths=[2, 2, 2, 2], layer_type="basic", hidden_sizes=[64, 128, 256, 512], embedding_size=64)
    model = ResNetModel(config)
    model.load_state_dict(torchvision_to_transformers(state), strict=True)
    folder = tmp_path / "hf-resnet-18"
    model.save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(
        json.dumps({"image_mean": list(IMAGENET_MEAN), "image_std": list(IMAGENET_STD)})
    )
    embedder = load_face_embedder(str(folder))
    assert embedder.dim == 512 and embedder.description["backbone_format"] == "transformers"
    assert not ExtractorSpec(VISUAL_EXTRACTOR, embedder.description, embedder.dim).random_weights
    np.testing.assert_allclose(embedder(crops), reference_embeddings(state, crops), rtol=1e-4, atol=1e-4)


def test_resize_policy(resnet_pth, crops):
    """112 px crops go in as is; input_size=224 upsamples them (and changes the embedding)."""
    native = load_face_embedder(str(resnet_pth))
    upsampled = load_face_embedder(str(resnet_pth), input_size=224)
    assert native.preprocess(crops).shape == (5, 3, 112, 112)
    assert upsampled.preprocess(crops).shape == (5, 3, 224, 224)
    assert upsampled.description["input_size"] == 224
    assert not np.allclose(native(crops), upsampled(crops), atol=1e-3)


def test_random_visual_backbone_is_seeded_and_leaves_the_global_generator_alone():
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    first = load_face_embedder("random")
    after = torch.rand(3)
    second = load_face_embedder("random")
    assert torch.equal(before, after)
    assert first.description == second.description and first.description["backbone_format"] == "random"
    assert ExtractorSpec(VISUAL_EXTRACTOR, first.description, first.dim).random_weights


def test_visual_backbone_errors(resnet_pth, tmp_path):
    with pytest.raises(ModelError, match="no visual backbone given: give a ResNet18 .*'random'"):
        load_face_embedder(None)
    with pytest.raises(ModelError, match="no such file or folder"):
        load_face_embedder(str(tmp_path / "missing.pth"))
    with pytest.raises(ModelError, match="microsoft/resnet-18: not a local path.*Hub"):
        load_face_embedder("microsoft/resnet-18")  # HF_HUB_OFFLINE=1: fails fast
    resnet34 = tmp_path / "resnet34.pth"
    torch.save(torchvision.models.resnet34(weights=None).state_dict(), resnet34)
    with pytest.raises(ModelError, match="not a ResNet18 state dict .*unexpected layer1.2"):
        load_face_embedder(str(resnet34))
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match="unreadable weights file"):
        load_face_embedder(str(garbage))
    with pytest.raises(ModelError, match="weights differ"):
        load_face_embedder(str(resnet_pth), expected_sha256="0" * 64)


def test_search_dirs_find_a_moved_backbone(resnet_pth, tmp_path):
    moved = tmp_path / "backbones"
    moved.mkdir()
    (moved / "resnet18-test.pth").write_bytes(resnet_pth.read_bytes())
    embedder = load_face_embedder("/nowhere/resnet18-test.pth", search_dirs=(moved,))
    assert embedder.description["weights_sha256"] == sha256_files([resnet_pth])


def test_hub_ids_are_told_apart_from_paths():
    assert looks_like_hub_id("facebook/wav2vec2-base-960h") and looks_like_hub_id("timm/resnet18.a1_in1k")
    for path in ("./a/b", "/abs/path", "a/b/c", "weights/resnet18.pth", "C:\\x", "single"):
        assert not looks_like_hub_id(path)


def test_dual_features_concatenate_and_drop_bad_rows():
    embeddings = np.arange(12, dtype=np.float32).reshape(3, 4)
    units = np.array([[0.1, 0.2], [np.nan, 0.3], [0.5, 0.6]], dtype=np.float32)
    features, times = dual_features(embeddings, units, np.array([0.0, 0.1, 0.2]))
    np.testing.assert_allclose(features, [[0, 1, 2, 3, 0.1, 0.2], [8, 9, 10, 11, 0.5, 0.6]], rtol=1e-6)
    np.testing.assert_allclose(times, [0.0, 0.2])


# -- Wav2Vec2 -------------------------------------------------------------------------------------


def speech_like(seconds: float, seed: int = 0) -> np.ndarray:
    """Amplitude-modulated noise and tones at 16 kHz (enough structure for the features to vary)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * 16000)) / 16000
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)
    return (envelope * (0.3 * np.sin(2 * np.pi * 220 * t) + 0.1 * rng.normal(size=t.size))).astype(np.float32)


def hidden_states_by_hand(folder: Path, waveform: np.ndarray) -> tuple:
    """All hidden states of the whole (standardised, peak-normalised) waveform in one pass."""
    model = Wav2Vec2Model.from_pretrained(folder).eval()
    x = waveform.astype(np.float64) * (10 ** (-3 / 20) / np.abs(waveform).max())
    x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
    with torch.inference_mode():
        return model(torch.from_numpy(x.astype(np.float32))[None], output_hidden_states=True).hidden_states


@pytest.mark.parametrize("stable", [False, True])
def test_every_layer_equals_the_full_model(tmp_path, stable):
    """Dropping the layers above the one asked for never changes it (post- and pre-norm models)."""
    folder = save_tiny_wav2vec2(
        tmp_path / "w2v", do_stable_layer_norm=stable, feat_extract_norm="layer" if stable else "group"
    )
    waveform = speech_like(1.3)
    expected = hidden_states_by_hand(folder, waveform)
    for layer in range(3):
        sequence = load_wav2vec2(str(folder), layer=layer)(waveform)
        assert sequence.features.shape == (expected[layer].shape[1], 32)
        np.testing.assert_allclose(sequence.features, expected[layer][0].numpy(), rtol=1e-4, atol=1e-4)
    assert load_wav2vec2(str(folder)).layer == 2  # default: the last


def test_times_and_lengths_at_50_hz(tmp_path):
    folder = save_tiny_wav2vec2(tmp_path / "w2v")
    extractor = load_wav2vec2(str(folder))
    sequence = extractor(speech_like(2.0))
    receptive = extractor.receptive_field
    assert receptive == 325 and extractor.stride == 320
    assert len(sequence.times) == (32000 - receptive) // 320 + 1
    np.testing.assert_allclose(np.diff(sequence.times), 0.02, atol=1e-6)
    assert sequence.times[0] == pytest.approx(receptive / 2 / 16000)
    assert extractor(np.zeros(16000, np.float32)).features.shape == (0, 32)  # silence
    assert extractor(speech_like(0.01)).features.shape == (0, 32)  # shorter than one frame


def test_peak_normalisation_makes_the_level_irrelevant(tmp_path):
    folder = save_tiny_wav2vec2(tmp_path / "w2v")
    waveform = speech_like(1.0)
    for standardize in (True, False):
        extractor = load_wav2vec2(str(folder))
        extractor.standardize = standardize
        np.testing.assert_allclose(
            extractor(waveform).features, extractor(0.05 * waveform).features, rtol=1e-4, atol=1e-4
        )
    assert extractor.prepare(waveform).max() <= 10 ** (-3 / 20) + 1e-6


def test_chunks_are_stitched_into_the_single_pass_sequence(tmp_path):
    """With a model whose context fits in half the overlap, chunked layer-0 features equal a single pass."""
    folder = save_tiny_wav2vec2(tmp_path / "w2v", feat_extract_norm="layer", num_conv_pos_embeddings=8)
    waveform = speech_like(3.7)
    single = load_wav2vec2(str(folder), layer=0, chunk_s=60)(waveform)
    chunked = load_wav2vec2(str(folder), layer=0, chunk_s=1.0, overlap_s=0.4)(waveform)
    np.testing.assert_array_equal(chunked.times, single.times)
    np.testing.assert_allclose(chunked.features, single.features, rtol=1e-4, atol=1e-4)
    deep = load_wav2vec2(str(folder), chunk_s=1.0, overlap_s=0.4)(waveform)  # attention context differs, shape not
    assert deep.features.shape == single.features.shape and np.isfinite(deep.features).all()


def test_random_wav2vec2_architectures(tmp_path):
    base = load_wav2vec2("random", layer=1)
    assert base.dim == 768 and base.description["architecture"]["num_hidden_layers"] == 12
    folder = save_tiny_wav2vec2(tmp_path / "w2v")
    tiny = load_wav2vec2(f"random:{folder}")
    again = load_wav2vec2("random", architecture=tiny.description["architecture"], expected_sha256=tiny.weights_sha256)
    assert tiny.description == again.description and tiny.description["backbone"] == "random"
    assert ExtractorSpec(AUDIO_EXTRACTOR, tiny.description, tiny.dim).random_weights
    waveform = speech_like(0.5)
    np.testing.assert_array_equal(tiny(waveform).features, again(waveform).features)


def test_audio_backbone_errors(tmp_path):
    with pytest.raises(ModelError, match="audio backbone facebook/wav2vec2-base-960h: not a local path.*give a Hub id"):
        load_wav2vec2()  # the default id, offline
    with pytest.raises(ModelError, match="no such file or folder"):
        load_wav2vec2(str(tmp_path / "missing"))
    folder = save_tiny_wav2vec2(tmp_path / "w2v")
    with pytest.raises(ModelError, match="audio layer 3: .* hidden states 0 to 2"):
        load_wav2vec2(str(folder), layer=3)
    with pytest.raises(ModelError, match="random:.*not a config.json"):
        load_wav2vec2(f"random:{tmp_path / 'nothing'}")


def test_checkpoints_with_heads_load_and_incomplete_ones_are_refused(tmp_path):
    """A Wav2Vec2ForCTC checkpoint (like the default) loads without its head; missing tensors are an error."""
    from transformers import Wav2Vec2ForCTC

    torch.manual_seed(0)
    Wav2Vec2ForCTC(Wav2Vec2Config(**TINY_WAV2VEC2, vocab_size=32)).save_pretrained(tmp_path / "ctc")
    assert load_wav2vec2(str(tmp_path / "ctc")).dim == 32
    config = json.loads((tmp_path / "ctc" / "config.json").read_text())
    (tmp_path / "ctc" / "config.json").write_text(json.dumps({**config, "num_hidden_layers": 3}))
    with pytest.raises(ModelError, match="lack 16 of the model's tensors .*random"):
        load_wav2vec2(str(tmp_path / "ctc"))
