"""Who may submit as a team: team tokens (self-hosted), a Hugging Face account map (on a Space), or
an open board that the organiser chose explicitly.

A team token is ``emi_<selector>_<secret>``: the selector finds the team's row, the secret is
checked against its scrypt hash with a constant-time comparison. Tokens are shown once, when made,
and only their hash is stored.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from emi_core.leaderboard.errors import LeaderboardError
from emi_core.leaderboard.teams import normalize_team_name, team_key

AUTH_VARIABLE = "EMI_AUTH"
TEAM_MAP_VARIABLE = "EMI_TEAM_MAP"
AUTH_MODES = ("token", "oauth", "open")
"""``token``: team tokens from ``emi leaderboard team add``; ``oauth``: Hugging Face sign-in and the
organiser's account → team map; ``open``: anyone submits under any name (only when set explicitly)."""

_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
_TOKEN = re.compile(r"emi_([0-9a-f]{12})_([A-Za-z0-9_-]{32,64})")
_ACCOUNT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}")


class IdentityError(LeaderboardError):
    """A submitter could not be identified as a member of a team (bad token, unknown account)."""


@dataclass(frozen=True)
class Member:
    """An identified submitter: the ``team`` it acts for and its ``account`` (``token:<selector>``,
    ``hf:<username>`` or ``open``), kept with each submission."""

    team: str
    account: str


def auth_mode() -> str:
    """``$EMI_AUTH`` if set; else ``oauth`` when ``$EMI_TEAM_MAP`` is set, else ``token``."""
    mode = os.environ.get(AUTH_VARIABLE, "").strip().lower()
    if not mode:
        return "oauth" if os.environ.get(TEAM_MAP_VARIABLE, "").strip() else "token"
    if mode not in AUTH_MODES:
        raise LeaderboardError(f"{AUTH_VARIABLE} must be one of {', '.join(AUTH_MODES)}, got {mode!r}")
    return mode


@dataclass(frozen=True)
class NewToken:
    """A freshly made token: ``token`` is shown to the team once; the rest is stored."""

    token: str
    selector: str
    salt: bytes
    token_hash: bytes


def new_token() -> NewToken:
    """Make a random team token and the salted scrypt hash that the store keeps of it."""
    selector, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    salt = secrets.token_bytes(16)
    return NewToken(f"emi_{selector}_{secret}", selector, salt, _hash(secret, salt))


def _hash(secret: str, salt: bytes) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt, **_SCRYPT)


def token_selector(token: str) -> tuple[str, str]:
    """Split a token into ``(selector, secret)``; raise :class:`IdentityError` when it is not one."""
    match = _TOKEN.fullmatch((token or "").strip())
    if match is None:
        raise IdentityError("not a valid team token (it looks like emi_<12 hex>_<secret>; ask your organiser)")
    return match.group(1), match.group(2)


def token_matches(secret: str, salt: bytes, token_hash: bytes) -> bool:
    """Constant-time check of a token's secret against its stored hash."""
    return hmac.compare_digest(_hash(secret, salt), token_hash)


class TeamMap:
    """The organiser's map of Hugging Face accounts to teams; one account belongs to one team.

    Read from ``$EMI_TEAM_MAP``: inline JSON (``{"account": "Team", ...}``) or the path of a JSON
    file of that form or of a CSV file with ``account,team`` rows. Accounts compare case-insensitively.
    """

    def __init__(self, accounts: dict[str, str]):
        self._teams: dict[str, str] = {}
        for account, team in accounts.items():
            name = str(account).strip()
            if not _ACCOUNT.fullmatch(name):
                raise LeaderboardError(f"the team map has an invalid account name {name!r}")
            if name.lower() in self._teams:
                raise LeaderboardError(f"the team map lists account {name!r} more than once (one account, one team)")
            self._teams[name.lower()] = normalize_team_name(team)

    @classmethod
    def from_text(cls, text: str) -> TeamMap:
        """Parse inline JSON, or CSV ``account,team`` lines (a header line ``account,team`` is allowed)."""
        text = text.strip()
        if text.startswith("{"):
            try:
                accounts = json.loads(text)
            except json.JSONDecodeError as err:
                raise LeaderboardError(f"the team map is not valid JSON ({err.msg}, line {err.lineno})") from None
            if not isinstance(accounts, dict):
                raise LeaderboardError("the team map must be a JSON object {account: team}")
            return cls(accounts)
        accounts: dict[str, str] = {}
        for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
            if not row or (number == 1 and [cell.strip().lower() for cell in row] == ["account", "team"]):
                continue
            if len(row) != 2:
                raise LeaderboardError(f"line {number} of the team map must be account,team")
            account = row[0].strip()
            if account.lower() in {key.lower() for key in accounts}:
                raise LeaderboardError(f"the team map lists account {account!r} more than once (one account, one team)")
            accounts[account] = row[1]
        return cls(accounts)

    @classmethod
    def from_env(cls) -> TeamMap:
        """The map in ``$EMI_TEAM_MAP`` (inline, or a file path); an empty map when unset."""
        value = os.environ.get(TEAM_MAP_VARIABLE, "").strip()
        if not value:
            return cls({})
        if value.startswith("{"):
            return cls.from_text(value)
        path = Path(value)
        try:
            return cls.from_text(path.read_text(encoding="utf-8"))
        except OSError:
            raise LeaderboardError(f"the team map file named by {TEAM_MAP_VARIABLE} cannot be read") from None

    def member(self, username: str) -> Member:
        """The member acting for ``username``'s team; :class:`IdentityError` when it has none."""
        team = self._teams.get(str(username).strip().lower())
        if team is None:
            raise IdentityError(f"account {username!r} is not on any team; ask the organiser to add it")
        return Member(team, f"hf:{str(username).strip()}")

    def __len__(self) -> int:
        return len(self._teams)


class Identities:
    """How a submitter is identified on a board, in the organiser's chosen ``mode`` (:data:`AUTH_MODES`).

    ``tokens`` looks a team token up (``Leaderboard.member_for_token``); team tokens work in every
    mode. In ``oauth`` mode a signed-in Hugging Face account acts for its team in ``team_map``; in
    ``open`` mode (explicit only) a typed team name is taken at its word.
    """

    def __init__(self, mode: str, tokens: Callable[[str], Member], team_map: TeamMap | None = None):
        if mode not in AUTH_MODES:
            raise LeaderboardError(f"unknown identity mode {mode!r}; choose one of {', '.join(AUTH_MODES)}")
        self.mode = mode
        self._tokens = tokens
        self.team_map = team_map or TeamMap({})

    def member(self, *, token: str = "", username: str | None = None, team_name: str = "") -> Member:
        """The identified submitter, or :class:`IdentityError` saying how to identify."""
        if token and token.strip():
            return self._tokens(token)
        if self.mode == "oauth" and username:
            return self.team_map.member(username)
        if self.mode == "open" and team_name.strip():
            return Member(normalize_team_name(team_name), "open")
        raise IdentityError(
            {
                "token": "enter your team token (the organiser makes it with: emi leaderboard team add NAME)",
                "oauth": "sign in with Hugging Face (or enter a team token) to submit",
                "open": "enter a team name to submit",
            }[self.mode]
        )


def team_record(name: str) -> tuple[str, str, NewToken]:
    """``(name, team_key, token)`` of a new team (name checked)."""
    name = normalize_team_name(name)
    return name, team_key(name), new_token()
