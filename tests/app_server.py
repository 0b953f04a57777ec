"""Run the real EMI studio app in-process on a free port, with its state in a temporary folder."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from emi_core.scoring import write_submission

TRUTH_IDS = [f"{i:05d}" for i in range(30)]


@dataclass
class RunningApp:
    """Where the app listens and where it keeps its files."""

    url: str
    root: Path
    truth: Path
    truth_values: np.ndarray
    test_truth: Path
    test_truth_values: np.ndarray

    @property
    def upload_dir(self) -> Path:
        return self.root / "gradio"

    @property
    def store_dir(self) -> Path:
        return self.root / "store"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_truth(path: Path, seed: int = 2024) -> np.ndarray:
    """Write a made-up ground truth with recognisable values; return the values."""
    values = np.random.default_rng(seed).random((len(TRUTH_IDS), 6)) * 0.5 + 0.25
    path.parent.mkdir(parents=True, exist_ok=True)
    write_submission(path, TRUTH_IDS, values)
    return values


@contextmanager
def running_app(root: Path) -> Iterator[RunningApp]:
    """Build the app as ``python app.py`` does and serve it on a free port until the block ends.

    The leaderboard store, Gradio's upload folder and example cache live under ``root``; the
    validation ground truth is put inside the upload folder on purpose (the one place Gradio does
    serve files from), to show that the app still refuses it. The ``test`` split is hidden (the
    default) and has its own ground truth outside the upload folder.
    """
    from demo.app import build_app, launch_options

    truth = root / "gradio" / "secret" / "val_truth.csv"
    truth_values = make_truth(truth)
    test_truth = root / "hidden" / "test_truth.csv"
    test_truth_values = make_truth(test_truth, seed=2025)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EMI_SUBMISSIONS_DIR", str(root / "store"))
        patch.setenv("GRADIO_TEMP_DIR", str(root / "gradio"))
        patch.setenv("GRADIO_EXAMPLES_CACHE", str(root / "examples_cache"))
        patch.setenv("EMI_GROUND_TRUTH_VAL", str(truth))
        patch.setenv("EMI_GROUND_TRUTH_TEST", str(test_truth))
        for variable in ("EMI_MODEL", "EMI_AUTH", "EMI_TEAM_MAP", "EMI_HIDDEN_SPLITS"):
            patch.delenv(variable, raising=False)
        app = build_app()
        options = launch_options() | {"server_port": free_port(), "prevent_thread_lock": True, "quiet": True}
        _, url, _ = app.launch(**options)
        try:
            yield RunningApp(url, root, truth, truth_values, test_truth, test_truth_values)
        finally:
            app.close()
