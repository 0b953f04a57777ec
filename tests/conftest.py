"""Shared fixtures: the test media (shipped, plus extra clips where a machine has them), offline settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHIPPED_MEDIA = REPO_ROOT / "tests" / "data" / "media"
"""Redistributable clips shipped with the repository (see its ``SOURCES.md``): the core suite needs only these."""
EXTRA_MEDIA = Path(os.environ.get("EMI_TEST_MEDIA", REPO_ROOT.parent / "shared" / "media"))
"""Clips that may not be redistributed (MEAD, Pexels): read where a developer's machine has them."""
EXTRA_ONLY = frozenset(
    {
        "mead_m030_happy_silent.mp4",
        "mead_m030_sad_silent.mp4",
        "mead_m030_surprised_silent.mp4",
        "pexels_wolfganglanger_happy_laughing_silent.mp4",
        "pexels_wolfganglanger_sad_crying_silent.mp4",
    }
)
REQUIRE_EXTRA = os.environ.get("EMI_REQUIRE_EXTRA_MEDIA") == "1"
"""Set by ``.ci/run``: a missing extra clip fails the test instead of skipping it."""
EXTRA_SKIP_REASON = "(not redistributable): set EMI_TEST_MEDIA"


def media_path(name: str) -> Path:
    """The path of test clip ``name``; skips (or, with ``EMI_REQUIRE_EXTRA_MEDIA=1``, fails) for an
    extra clip that this machine does not have, and fails for a shipped clip that is missing."""
    shipped = SHIPPED_MEDIA / name
    if shipped.is_file():
        return shipped
    if name in EXTRA_ONLY:
        extra = EXTRA_MEDIA / name
        if extra.is_file():
            return extra
        reason = f"needs {name} {EXTRA_SKIP_REASON} to a folder holding it"
        if REQUIRE_EXTRA:
            pytest.fail(reason)
        pytest.skip(reason)
    pytest.fail(f"missing test clip {shipped}")


@pytest.fixture(scope="session")
def media_dir() -> Path:
    """The folder of shipped test clips (``tests/data/media``)."""
    return SHIPPED_MEDIA


@pytest.fixture(scope="session")
def media():
    """``media("name.mp4")`` returns the path of a test clip (see :func:`media_path`)."""
    return media_path


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """List the tests skipped for want of an extra clip in ``$EMI_MEDIA_SKIPS_FILE`` (``.ci/run`` reruns them)."""
    skips_file = os.environ.get("EMI_MEDIA_SKIPS_FILE")
    if skips_file and report.skipped and EXTRA_SKIP_REASON in str(report.longrepr):
        with open(skips_file, "a", encoding="utf-8") as out:
            out.write(report.nodeid + "\n")
