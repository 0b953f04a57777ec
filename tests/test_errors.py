"""Each user-facing condition raises its own EMIError subclass (the CLI still prints one line, exit 2)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch

import emi_core
from emi_core import errors
from emi_core.device import resolve_device
from emi_core.errors import ConfigError, DatasetError, EMIError, ModelError
from emi_core.features.extract import Extractors
from emi_core.features.visual import load_face_embedder
from emi_core.training.data import read_split

PACKAGE = Path(emi_core.__file__).parent


def test_every_error_type_is_an_emi_error():
    types = [value for value in vars(errors).values() if isinstance(value, type) and issubclass(value, Exception)]
    assert len(types) >= 8 and all(issubclass(kind, EMIError) for kind in types)


def test_the_library_never_raises_the_bare_base_class():
    bare = [
        f"{path.relative_to(PACKAGE)}:{node.lineno}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Raise)
        and isinstance(node.exc, ast.Call)
        and isinstance(node.exc.func, ast.Name)
        and node.exc.func.id == "EMIError"
    ]
    assert bare == []


def test_device_settings_are_config_errors():
    with pytest.raises(ConfigError, match="unknown device 'tpu'"):
        resolve_device("tpu")
    assert resolve_device("cpu") == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA GPU") as caught:
            resolve_device("cuda")
        assert "--" not in str(caught.value)  # library words; the CLI phrases its flags


@pytest.mark.parametrize("options", [{"channels": ()}, {"channels": ("visual", "face")}, {"fps": 0.0}])
def test_extraction_settings_are_config_errors(options):
    with pytest.raises(ConfigError) as caught:
        Extractors.from_options(**options)
    assert "--" not in str(caught.value)


def test_backbone_errors_name_no_cli_flag():
    with pytest.raises(ModelError, match="no visual backbone given") as caught:
        load_face_embedder(None)
    assert "--" not in str(caught.value)


def test_an_unlabelled_split_is_a_dataset_error(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("Filename,Joy\n00001,0.5\n")
    with pytest.raises(DatasetError, match="not a usable labelled challenge CSV"):
        read_split(bad)
