"""Shared fixtures: the real test media beside the repository, offline settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
MEDIA_DIR = Path(os.environ.get("EMI_TEST_MEDIA", REPO_ROOT.parent / "shared" / "media"))


@pytest.fixture(scope="session")
def media_dir() -> Path:
    """The folder of real test clips (``../shared/media`` beside the repository)."""
    if not (MEDIA_DIR / "SOURCES.md").is_file():
        pytest.fail(f"test media not found at {MEDIA_DIR} (set EMI_TEST_MEDIA)")
    return MEDIA_DIR


@pytest.fixture(scope="session")
def media(media_dir: Path):
    """``media("name.mp4")`` returns the path of a shared test clip, failing clearly if it is missing."""

    def _get(name: str) -> Path:
        path = media_dir / name
        if not path.is_file():
            pytest.fail(f"missing test clip {path}")
        return path

    return _get
