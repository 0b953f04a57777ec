"""Leaderboard settings read from the environment (each can also be passed explicitly)."""

from __future__ import annotations

import os
from pathlib import Path

from emi_core.leaderboard.errors import LeaderboardError

SPLITS: tuple[str, ...] = ("val", "test")
"""Splits a team can submit to."""

DEFAULT_DAILY_LIMIT = 5
"""Scored submissions per team, split and UTC day when ``EMI_DAILY_LIMIT`` is not set."""

SUBMISSIONS_DIR_VARIABLE = "EMI_SUBMISSIONS_DIR"
DAILY_LIMIT_VARIABLE = "EMI_DAILY_LIMIT"


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
    text = os.environ.get(DAILY_LIMIT_VARIABLE, "").strip()
    if not text:
        return DEFAULT_DAILY_LIMIT
    if not text.isdigit() or int(text) < 1:
        raise LeaderboardError(f"{DAILY_LIMIT_VARIABLE} must be a positive integer, got {text!r}")
    return int(text)


def ground_truth_from_env(split: str) -> Path:
    """The ground-truth path of ``split`` from its environment variable (never shown in messages)."""
    variable = ground_truth_variable(split)
    value = os.environ.get(variable, "").strip()
    if not value:
        raise LeaderboardError(f"no ground truth is configured for split {split!r} (set {variable})")
    return Path(value)
