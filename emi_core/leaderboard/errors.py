"""Errors of the leaderboard: refusals (nothing stored) and rejections (stored with their reasons)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from emi_core.errors import EMIError
from emi_core.scoring.problems import Problem, SubmissionError

if TYPE_CHECKING:
    from emi_core.leaderboard.entry import Entry


class LeaderboardError(EMIError):
    """A submission was refused or the store is misconfigured; nothing was stored."""


class InvalidTeamName(LeaderboardError):
    """A team name is empty, too long or uses characters outside the allowed set."""


class DailyLimitReached(LeaderboardError):
    """The team has used all its scored submissions for this split today (UTC)."""


class DuplicateSubmission(LeaderboardError):
    """The team already submitted this exact file to this split; ``.entry_id`` is the earlier one."""

    def __init__(self, message: str, entry_id: int):
        super().__init__(message)
        self.entry_id = entry_id


class SubmissionRejected(SubmissionError):
    """The file was invalid: it is stored as ``rejected`` (``.entry``) with every problem as its reasons."""

    def __init__(self, problems: Iterable[Problem], entry: Entry, total: int | None = None):
        super().__init__(problems, total)
        self.entry = entry
