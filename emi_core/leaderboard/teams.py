"""Team names: trimmed, limited in length and to a safe character set."""

from __future__ import annotations

import re

from emi_core.leaderboard.errors import InvalidTeamName

TEAM_NAME_MAX_LENGTH = 40
_ALLOWED = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]*")
_BAD_CHARACTER = re.compile(r"[^A-Za-z0-9 ._-]")


def normalize_team_name(name: str) -> str:
    """Trim ``name``, collapse inner runs of whitespace to one space, and check it.

    A name has 1 to :data:`TEAM_NAME_MAX_LENGTH` characters: ASCII letters, digits, spaces and
    ``. _ -``, starting with a letter or digit. Raises :class:`InvalidTeamName` otherwise.
    """
    cleaned = " ".join(str(name).split())
    if not cleaned:
        raise InvalidTeamName("team name is empty")
    if len(cleaned) > TEAM_NAME_MAX_LENGTH:
        raise InvalidTeamName(f"team name has {len(cleaned)} characters, more than {TEAM_NAME_MAX_LENGTH}")
    if not _ALLOWED.fullmatch(cleaned):
        bad = _BAD_CHARACTER.search(cleaned)
        detail = f"{bad.group()!r} is not allowed" if bad else "it must start with a letter or digit"
        raise InvalidTeamName(
            f"team name {cleaned!r} is invalid: {detail} (use letters A-Z, digits, spaces, '.', '_', '-')"
        )
    return cleaned


def team_key(name: str) -> str:
    """The identity of a team: names differing only in letter case are the same team."""
    return name.lower()
