"""The package's top level: the main objects are one import away, and ``import emi_core`` stays cheap."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import emi_core

HEAVY = ("torch", "numpy", "mediapipe", "transformers", "gradio", "emi_core.pipeline", "emi_core.models")


def test_import_emi_core_loads_nothing_heavy():
    code = (
        "import json, sys, emi_core\n"
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []


@pytest.mark.parametrize("name", sorted(emi_core._LAZY))
def test_every_lazy_export_is_the_object_of_its_module(name):
    module = __import__(emi_core._LAZY[name], fromlist=[name])
    assert getattr(emi_core, name) is getattr(module, name)
    assert name in dir(emi_core) and name in emi_core.__all__


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        emi_core.Nope  # noqa: B018
    assert not hasattr(emi_core, "_nope")
