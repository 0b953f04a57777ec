"""EMI studio: Emotional Mimicry Intensity estimation for the ABAW EMI challenge.

The main objects are importable from the top, and loaded on first use (``import emi_core`` stays
cheap: no torch, no MediaPipe)::

    from emi_core import EMIPipeline
    result = EMIPipeline.from_pretrained("default")("clip.mp4")
"""

from __future__ import annotations

import importlib
from typing import Any

from emi_core.emotions import CSV_HEADER, EMOTIONS

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "EMIPipeline": "emi_core.pipeline",
    "EMIResult": "emi_core.result",
    "ModelInfo": "emi_core.result",
    "EMIModel": "emi_core.models.paper",
    "BatchPrediction": "emi_core.prediction",
    "predict_clips": "emi_core.prediction",
    "inspect_clip": "emi_core.inspection",
    "render_annotated": "emi_core.render",
    "FeatureCache": "emi_core.features.cache",
    "ExtractionRun": "emi_core.features.batch",
    "extract_split": "emi_core.features.batch",
    "predict_split": "emi_core.submission",
    "TrainConfig": "emi_core.training",
    "train": "emi_core.training",
    "score_submission": "emi_core.scoring",
    "validate_submission": "emi_core.scoring",
    "write_submission": "emi_core.scoring",
    "Leaderboard": "emi_core.leaderboard",
    "EMIError": "emi_core.errors",
}
"""Public name → the module that defines it, imported by :func:`__getattr__` on first access."""

__all__ = ["CSV_HEADER", "EMOTIONS", "__version__", *_LAZY]

def __getattr__(name: str) -> Any:
    """Import a public object's module on first access (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'emi_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
