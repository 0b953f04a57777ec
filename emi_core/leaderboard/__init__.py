"""The EMI challenge leaderboard: a SQLite store of submissions, rankings with bootstrap statistics.

Public API: :class:`Leaderboard` (``submit``, ``ranking``, ``entries``, ``export_csv``), the
records :class:`Entry` and :class:`RankedEntry`, and the errors a submission can meet.
"""

from emi_core.leaderboard.board import Leaderboard
from emi_core.leaderboard.config import DEFAULT_DAILY_LIMIT, SPLITS
from emi_core.leaderboard.entry import REJECTED, SCORED, Entry, RankedEntry
from emi_core.leaderboard.errors import (
    DailyLimitReached,
    DuplicateSubmission,
    InvalidTeamName,
    LeaderboardError,
    SubmissionRejected,
)
from emi_core.leaderboard.teams import TEAM_NAME_MAX_LENGTH, normalize_team_name

__all__ = [
    "DEFAULT_DAILY_LIMIT",
    "REJECTED",
    "SCORED",
    "SPLITS",
    "TEAM_NAME_MAX_LENGTH",
    "DailyLimitReached",
    "DuplicateSubmission",
    "Entry",
    "InvalidTeamName",
    "Leaderboard",
    "LeaderboardError",
    "RankedEntry",
    "SubmissionRejected",
    "normalize_team_name",
]
