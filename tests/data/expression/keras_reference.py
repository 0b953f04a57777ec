"""Independent float64 NumPy forward pass of a Keras 2 functional model read from its hdf5 file.

Written separately from ``emi_core.models.expression`` (which it must not import) to check the torch port:
it interprets the file's ``model_config`` graph directly, in NHWC layout with the Keras kernels as stored,
implementing TensorFlow's 'same'/'valid' padding. Only the layer types of fer's mini-Xception are handled.
Needs only numpy and h5py.
"""

from __future__ import annotations

import json

import h5py
import numpy as np


def load_keras_model(path: str) -> tuple[dict, dict[str, dict[str, np.ndarray]]]:
    """``(model_config, {layer name: {weight short name: array}})`` from a Keras 2 hdf5 file."""
    with h5py.File(path, "r") as handle:
        config = handle.attrs["model_config"]
        config = json.loads(config.decode() if isinstance(config, bytes) else config)
        group = handle.get("model_weights", handle)
        weights = {}
        for layer in config["config"]["layers"]:
            layer_group = group[layer["name"]]
            names = [n.decode() if isinstance(n, bytes) else str(n) for n in layer_group.attrs["weight_names"]]
            weights[layer["name"]] = {n.rsplit("/", 1)[-1].split(":")[0]: np.array(layer_group[n]) for n in names}
    return config, weights


def _pads(size: int, kernel: int, stride: int, padding: str) -> tuple[int, int, int]:
    """(pad before, pad after, output size) for one spatial axis, TensorFlow convention."""
    if padding == "valid":
        return 0, 0, (size - kernel) // stride + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2, out


def _windows(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], padding: str, fill: float) -> np.ndarray:
    """(N, H, W, C) -> (N, Ho, Wo, kh, kw, C) patches after TF padding with ``fill``."""
    (kh, kw), (sh, sw) = kernel, stride
    top, bottom, out_h = _pads(x.shape[1], kh, sh, padding)
    left, right, out_w = _pads(x.shape[2], kw, sw, padding)
    x = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=fill)
    patches = np.empty((x.shape[0], out_h, out_w, kh, kw, x.shape[3]), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            patches[:, :, :, i, j, :] = x[:, i : i + sh * out_h : sh, j : j + sw * out_w : sw, :]
    return patches


def _conv(x: np.ndarray, kernel: np.ndarray, cfg: dict) -> np.ndarray:
    patches = _windows(x, kernel.shape[:2], cfg["strides"], cfg["padding"], 0.0)
    return np.einsum("nhwijc,ijco->nhwo", patches, kernel)


def _depthwise(x: np.ndarray, kernel: np.ndarray, cfg: dict) -> np.ndarray:
    assert kernel.shape[3] == 1, "depth multiplier 1 only"
    patches = _windows(x, kernel.shape[:2], cfg["strides"], cfg["padding"], 0.0)
    return np.einsum("nhwijc,ijc->nhwc", patches, kernel[:, :, :, 0])


def _apply(layer: dict, inputs: list[np.ndarray], w: dict[str, np.ndarray]) -> np.ndarray:
    kind, cfg = layer["class_name"], layer["config"]
    assert cfg.get("dilation_rate", [1, 1]) in ([1, 1], (1, 1))
    x = inputs[0]
    if kind == "Conv2D":
        y = _conv(x, w["kernel"], cfg)
        y = y + w["bias"] if cfg["use_bias"] else y
    elif kind == "SeparableConv2D":
        y = _conv(_depthwise(x, w["depthwise_kernel"], cfg), w["pointwise_kernel"], {**cfg, "strides": [1, 1]})
    elif kind == "BatchNormalization":
        y = (x - w["moving_mean"]) / np.sqrt(w["moving_variance"] + cfg["epsilon"]) * w["gamma"] + w["beta"]
    elif kind == "MaxPooling2D":
        y = _windows(x, cfg["pool_size"], cfg["strides"], cfg["padding"], -np.inf).max(axis=(3, 4))
    elif kind == "Add":
        y = sum(inputs[1:], inputs[0])
    elif kind == "GlobalAveragePooling2D":
        y = x.mean(axis=(1, 2))
    elif kind == "Activation" and cfg["activation"] == "relu":
        y = np.maximum(x, 0.0)
    elif kind == "Activation" and cfg["activation"] == "softmax":
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        y = e / e.sum(axis=-1, keepdims=True)
    else:
        raise NotImplementedError(f"{kind} {cfg.get('activation', '')}")
    if kind in ("Conv2D", "SeparableConv2D"):
        assert cfg["activation"] == "linear"
    return y


def keras_forward(config: dict, weights: dict[str, dict[str, np.ndarray]], x: np.ndarray) -> dict[str, np.ndarray]:
    """Run ``x`` (N, H, W, C), already preprocessed, through the graph in float64; every layer's output by name."""
    outputs: dict[str, np.ndarray] = {}
    for layer in config["config"]["layers"]:
        if layer["class_name"] == "InputLayer":
            outputs[layer["name"]] = np.asarray(x, dtype=np.float64)
            continue
        inputs = [outputs[node[0]] for node in layer["inbound_nodes"][0]]
        layer_weights = {k: v.astype(np.float64) for k, v in weights[layer["name"]].items()}
        outputs[layer["name"]] = _apply(layer, inputs, layer_weights)
    return outputs
