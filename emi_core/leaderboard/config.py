"""Leaderboard settings read from the environment (each can also be passed explicitly)."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from emi_core.leaderboard.errors import LeaderboardError

SPLITS: tuple[str, ...] = ("val", "test")
"""Splits a team can submit to."""

DEFAULT_DAILY_LIMIT = 5
"""Scored submissions per team, split and UTC day when ``EMI_DAILY_LIMIT`` is not set."""

DEFAULT_HIDDEN_SPLITS: tuple[str, ...] = ("test",)
"""Splits whose labels participants never see (ABAW publishes validation labels, not test labels)."""

DEFAULT_FINAL_PICKS = 2
"""Submissions a team may pick for the final (private) ranking of a hidden split."""

SUBMISSIONS_DIR_VARIABLE = "EMI_SUBMISSIONS_DIR"
DAILY_LIMIT_VARIABLE = "EMI_DAILY_LIMIT"
HIDDEN_SPLITS_VARIABLE = "EMI_HIDDEN_SPLITS"
FINAL_PICKS_VARIABLE = "EMI_FINAL_PICKS"


def ground_truth_variable(split: str) -> str:
    """Name of the environment variable holding the ground-truth path of ``split``."""
    return f"EMI_GROUND_TRUTH_{split.upper()}"


def check_split(split: str) -> str:
    """Return ``split`` if it is one of :data:`SPLITS`, else raise :class:`LeaderboardError`."""
    if split not in SPLITS:
        raise LeaderboardError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    return split


def default_store_dir() -> Path:
    """``$EMI_SUBMISSIONS_DIR`` if set, else ``./submissions`` (relative to the working directory)."""
    return Path(os.environ.get(SUBMISSIONS_DIR_VARIABLE) or "submissions")


def default_daily_limit() -> int:
    """``$EMI_DAILY_LIMIT`` (a positive integer) or :data:`DEFAULT_DAILY_LIMIT`."""
    return _positive_integer(DAILY_LIMIT_VARIABLE, DEFAULT_DAILY_LIMIT)


def default_final_picks() -> int:
    """``$EMI_FINAL_PICKS`` (a positive integer) or :data:`DEFAULT_FINAL_PICKS`."""
    return _positive_integer(FINAL_PICKS_VARIABLE, DEFAULT_FINAL_PICKS)


def _positive_integer(variable: str, default: int) -> int:
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise LeaderboardError(f"{variable} must be a positive integer, got {text!r}")
    return int(text)


def default_hidden_splits() -> frozenset[str]:
    """``$EMI_HIDDEN_SPLITS`` (comma-separated; empty for none) or :data:`DEFAULT_HIDDEN_SPLITS`."""
    text = os.environ.get(HIDDEN_SPLITS_VARIABLE)
    if text is None:
        return frozenset(DEFAULT_HIDDEN_SPLITS)
    return frozenset(check_split(part.strip()) for part in text.split(",") if part.strip())


DATASET_PREFIX = "hf://datasets/"


def ground_truth_from_env(split: str) -> Path:
    """The ground-truth path of ``split`` from its environment variable (never shown in messages).

    The value is a local path, or ``hf://datasets/<owner>/<name>/<file.csv>``: a file of a private
    dataset, downloaded with the Space's ``HF_TOKEN`` secret into the Hugging Face cache (which the
    app never serves).
    """
    variable = ground_truth_variable(split)
    value = os.environ.get(variable, "").strip()
    if not value:
        raise LeaderboardError(f"no ground truth is configured for split {split!r} (set {variable})")
    if value.startswith(DATASET_PREFIX):
        return _download_truth(value[len(DATASET_PREFIX) :], split)
    return Path(value)


@functools.lru_cache(maxsize=8)
def _download_truth(location: str, split: str) -> Path:
    """Download once per process (a changed ground truth on the hub needs a restart)."""
    parts = location.split("/", 2)
    if len(parts) != 3 or not all(parts):
        raise LeaderboardError(f"the ground truth of {split!r} must be hf://datasets/<owner>/<name>/<file>")
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    try:
        return Path(hf_hub_download(f"{parts[0]}/{parts[1]}", parts[2], repo_type="dataset"))
    except (HfHubHTTPError, LocalEntryNotFoundError, OSError):
        raise LeaderboardError(f"the ground truth of split {split!r} cannot be downloaded from its dataset") from None
