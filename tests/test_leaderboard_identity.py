"""Identities: team tokens (hashed, constant-time), the Hugging Face account map, an explicit open board;
impersonation and limit exhaustion by someone else fail."""

from __future__ import annotations

import sqlite3

import gradio as gr
import numpy as np
import pytest

from demo.score import ScoreTab, identity_banner
from demo.uploads import ExampleClips
from emi_core.cli import main
from emi_core.leaderboard import DailyLimitReached, Leaderboard, LeaderboardError
from emi_core.leaderboard.identity import Identities, IdentityError, Member, TeamMap, auth_mode
from emi_core.leaderboard.ratelimit import RateLimited, RateLimiter
from emi_core.scoring import submission_text, write_submission

IDS = [f"{i:05d}" for i in range(40)]


@pytest.fixture()
def board(tmp_path):
    truth = np.random.default_rng(3).random((len(IDS), 6))
    path = write_submission(tmp_path / "val_truth.csv", IDS, truth)
    board = Leaderboard(tmp_path / "store", ground_truth={"val": path}, daily_limit=2)
    board.truth_values = truth
    return board


def prediction(board, seed: int) -> bytes:
    noise = np.random.default_rng(seed).normal(0, 0.3, board.truth_values.shape)
    return submission_text(IDS, np.clip(board.truth_values + noise, 0, 1)).encode()


def profile(username: str) -> gr.OAuthProfile:
    return gr.OAuthProfile(
        {"name": username.title(), "preferred_username": username, "profile": "", "picture": ""}
    )


def tab(board, identities) -> ScoreTab:
    return ScoreTab(board, ExampleClips([]), identities, RateLimiter(1000))


def test_tokens_are_shown_once_stored_hashed_and_identify_their_team(board):
    token = board.add_team("Victim Team")
    assert token.startswith("emi_") and board.member_for_token(token) == Member("Victim Team", f"token:{token[4:16]}")
    conn = sqlite3.connect(board.db_path)
    stored = b"".join(bytes(cell) if isinstance(cell, bytes) else str(cell).encode() for cell in conn.execute(
        "SELECT * FROM teams"
    ).fetchone())
    assert token.encode() not in stored and token.split("_")[2].encode() not in stored
    for forged in ("", "victim team", token[:-1] + ("A" if token[-1] != "A" else "B"), token.replace("emi_", "emi-")):
        with pytest.raises(IdentityError):
            board.member_for_token(forged)
    renewed = board.add_team("victim TEAM")  # a new token replaces the old one
    with pytest.raises(IdentityError):
        board.member_for_token(token)
    assert board.member_for_token(renewed).team == "victim TEAM" and board.teams() == ["victim TEAM"]


def test_impersonation_and_limit_exhaustion_fail(board):
    victim = board.add_team("Victim Team")
    attacker = board.add_team("Attacker")
    identities = Identities("token", board.member_for_token)
    score = tab(board, identities)
    for attempt in range(5):  # without the victim's token, submissions never reach the victim's quota
        with pytest.raises(gr.Error):
            score.submit_ui({"split": "val", "raw": prediction(board, attempt)}, "", "Victim Team", "", None)
        with pytest.raises(gr.Error):
            score.submit_ui({"split": "val", "raw": prediction(board, attempt)}, victim[:-2] + "xx", "", "", None)
    spent = 0
    for attempt in range(3):  # the attacker exhausts only its own limit
        try:
            score.submit_ui({"split": "val", "raw": prediction(board, 10 + attempt)}, attacker, "Victim Team", "", None)
            spent += 1
        except gr.Error as err:
            assert "has used its 2 scored submissions" in str(err)
    assert spent == 2
    assert [entry.team for entry in board.entries()] == ["Attacker", "Attacker"]
    markdown, _, _ = score.submit_ui({"split": "val", "raw": prediction(board, 99)}, victim, "", "", None)
    assert "for **Victim Team**" in markdown
    assert board.entries(team="Victim Team")[0].account.startswith("token:")


def test_sign_in_handlers_with_a_constructed_oauth_profile(board, monkeypatch):
    monkeypatch.setenv("EMI_TEAM_MAP", '{"alice": "Team A", "Bob": "Team B"}')
    assert auth_mode() == "oauth"
    identities = Identities(auth_mode(), board.member_for_token, TeamMap.from_env())
    score = tab(board, identities)
    pending = {"split": "val", "raw": prediction(board, 1)}
    markdown, _, _ = score.submit_ui(pending, "", "Team B", "", profile("ALICE"))
    assert "for **Team A**" in markdown  # the account's team, whatever name is typed
    assert board.entries()[0].account == "hf:ALICE"
    with pytest.raises(gr.Error, match="not on any team"):
        score.submit_ui({"split": "val", "raw": prediction(board, 2)}, "", "", "", profile("mallory"))
    with pytest.raises(gr.Error, match="sign in with Hugging Face"):
        score.submit_ui({"split": "val", "raw": prediction(board, 2)}, "", "Team A", "", None)
    assert "Hugging Face sign-in" in identity_banner(identities)


def test_team_map_one_account_one_team(tmp_path, monkeypatch):
    with pytest.raises(LeaderboardError, match="more than once"):
        TeamMap.from_text("account,team\nalice,Team A\nALICE,Team B\n")
    path = tmp_path / "teams.csv"
    path.write_text("account,team\nalice,Team A\nbob,Team A\n")
    monkeypatch.setenv("EMI_TEAM_MAP", str(path))
    team_map = TeamMap.from_env()
    assert len(team_map) == 2 and team_map.member("Bob") == Member("Team A", "hf:Bob")
    with pytest.raises(LeaderboardError, match="not valid JSON"):
        TeamMap.from_text("{nope")
    monkeypatch.setenv("EMI_TEAM_MAP", str(tmp_path / "missing.csv"))
    with pytest.raises(LeaderboardError, match="cannot be read") as caught:
        TeamMap.from_env()
    assert str(tmp_path) not in str(caught.value)


def test_an_open_board_only_when_asked_and_with_a_banner(board, monkeypatch):
    monkeypatch.delenv("EMI_TEAM_MAP", raising=False)
    monkeypatch.delenv("EMI_AUTH", raising=False)
    assert auth_mode() == "token"
    monkeypatch.setenv("EMI_AUTH", "open")
    identities = Identities(auth_mode(), board.member_for_token)
    assert "Open board" in identity_banner(identities)
    pending = {"split": "val", "raw": prediction(board, 5)}
    markdown, _, _ = tab(board, identities).submit_ui(pending, "", "Anyone", "", None)
    assert "for **Anyone**" in markdown
    monkeypatch.setenv("EMI_AUTH", "nobody")
    with pytest.raises(LeaderboardError, match="EMI_AUTH must be one of"):
        auth_mode()


def test_anonymous_checks_are_rate_limited_per_client():
    now = [0.0]
    limiter = RateLimiter(per_minute=6, burst=2, clock=lambda: now[0])
    limiter.take("1.2.3.4")
    limiter.take("1.2.3.4")
    with pytest.raises(RateLimited, match="try again in 10 s"):
        limiter.take("1.2.3.4", "checks")
    limiter.take("5.6.7.8")  # another client is not affected
    now[0] += 10.0
    limiter.take("1.2.3.4")
    small = RateLimiter(per_minute=1, max_clients=3, clock=lambda: now[0])
    for client in "abcd":
        small.take(client)
    assert len(small._buckets) == 3


def test_the_score_tab_check_is_rate_limited(board):
    class Request:
        class client:  # noqa: N801 - the shape of gr.Request.client
            host = "9.9.9.9"

    score = ScoreTab(board, ExampleClips([]), Identities("token", board.member_for_token), RateLimiter(2, burst=2))
    for _ in range(2):
        with pytest.raises(gr.Error, match="Upload a submission CSV first"):
            score.score_api(None, "val", Request())
    with pytest.raises(gr.Error, match="too many checks from your address"):
        score.score_api(None, "val", Request())


def test_cli_team_add_shows_the_token_once(tmp_path, capsys):
    store = tmp_path / "store"
    assert main(["leaderboard", "team", "add", "Team Zeta", "--store", str(store)]) == 0
    out = capsys.readouterr().out
    token = next(word for word in out.split() if word.startswith("emi_"))
    assert Leaderboard(store).member_for_token(token).team == "Team Zeta"
    assert main(["leaderboard", "team", "list", "--store", str(store)]) == 0
    listing = capsys.readouterr().out
    assert "Team Zeta" in listing and token not in listing
    assert main(["leaderboard", "team", "add", "bad<name>", "--store", str(store)]) == 2


def test_daily_limit_cannot_be_dodged_by_respelling(board):
    token = board.add_team("Team Alpha")
    member = board.member_for_token(token)
    for seed in range(2):
        board.submit(member.team, "val", prediction(board, seed), account=member.account)
    with pytest.raises(DailyLimitReached):
        board.submit(member.team, "val", prediction(board, 7), account=member.account)
