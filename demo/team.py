"""The My team tab: a team's own submissions (rejected ones with their reasons), its final picks,
the comparison of two of its submissions and the score of a blend. The team is identified as on the
Score tab; every number comes from ``emi_core.leaderboard`` (comparisons and blends are counted)."""

from __future__ import annotations

import gradio as gr
import pandas as pd

from demo.api import json_endpoint, message, user_errors
from demo.leaderboard import format_p_value
from demo.score import identify, identity_inputs
from emi_core.emotions import EMOTIONS
from emi_core.leaderboard import SPLITS, Entry, Leaderboard
from emi_core.leaderboard.identity import Identities

MY_COLUMNS = ["#", "date (UTC)", "status", "mean r", "final r", "final pick", "description", "reasons"]
"""*mean r* is the public part on a hidden split during the phase; *final r* the private part once closed."""
COMPARE_COLUMNS = ["emotion", "first r", "second r", "gap", "p (paired bootstrap)"]


def parse_ids(text: str) -> list[int]:
    """Submission ids typed as ``3, 7`` or ``#3 #7``."""
    words = str(text or "").replace(",", " ").replace("#", " ").split()
    if not all(word.isdigit() for word in words):
        raise message(f"submission ids are whole numbers such as 3, 7; got {text!r}")
    return [int(word) for word in words]


def my_table(entries: list[Entry]) -> pd.DataFrame:
    """Every own entry, newest first; a rejected one with its reasons."""
    rows = [
        [
            entry.id,
            entry.submitted_at.replace("T", " ").rstrip("Z"),
            entry.status,
            "" if entry.mean_pearson is None else f"{entry.mean_pearson:.4f}",
            "" if entry.private_mean_pearson is None else f"{entry.private_mean_pearson:.4f}",
            "yes" if entry.final else "",
            entry.description,
            "; ".join(entry.reasons),
        ]
        for entry in reversed(entries)
    ]
    return pd.DataFrame(rows, columns=MY_COLUMNS)


def comparison_table(comparison: dict) -> pd.DataFrame:
    """Per emotion (and the mean): both r, their gap and the paired bootstrap p-value."""
    rows = []
    for name in [*EMOTIONS, "mean"]:
        first, second = comparison["first"][name], comparison["second"][name]
        p_value = format_p_value(comparison["p_values"][name])
        rows.append([name, f"{first:.4f}", f"{second:.4f}", f"{first - second:+.4f}", p_value])
    return pd.DataFrame(rows, columns=COMPARE_COLUMNS)


class TeamTab:
    """Builds the My team tab and its API endpoints over one leaderboard store."""

    def __init__(self, board: Leaderboard, identities: Identities):
        self.board = board
        self.identities = identities

    def my_submissions_api(self, token: str, team_name: str, split: str, profile: gr.OAuthProfile | None) -> dict:
        """API: every submission of the caller's team to ``split`` (scored and rejected, with reasons)."""
        member = identify(self.identities, token, team_name, profile)
        with user_errors():
            entries = self.board.entries(split, member.team)
            closed = self.board.is_closed(split)
        return {"team": member.team, "split": split, "closed": closed, "entries": [e.to_dict() for e in entries]}

    def pick_final_api(
        self, token: str, team_name: str, split: str, ids: str, profile: gr.OAuthProfile | None
    ) -> dict:
        """API: make these (at most K) of the team's scored submissions its final picks."""
        member = identify(self.identities, token, team_name, profile)
        with user_errors():
            picked = self.board.pick_final(member.team, split, parse_ids(ids))
        return {"team": member.team, "split": split, "final": [entry.id for entry in picked]}

    def compare_api(
        self, token: str, team_name: str, split: str, first: float, second: float, profile: gr.OAuthProfile | None
    ) -> dict:
        """API: compare two of the team's submissions per emotion (paired bootstrap); counted."""
        member = identify(self.identities, token, team_name, profile)
        with user_errors():
            comparison = self.board.compare(member, split, int(first or 0), int(second or 0))
        return {"team": member.team, "split": split, **comparison.to_dict()}

    def blend_api(self, token: str, team_name: str, split: str, ids: str, profile: gr.OAuthProfile | None) -> dict:
        """API: score the average of these submissions as a new submission of the team; counted."""
        member = identify(self.identities, token, team_name, profile)
        with user_errors():
            entry = self.board.blend(member, split, parse_ids(ids))
        return entry.to_dict()

    def show_ui(self, token: str, team_name: str, split: str, profile: gr.OAuthProfile | None) -> tuple:
        """Show button: the team's submissions."""
        found = self.my_submissions_api(token, team_name, split, profile)
        state = "closed: final scores shown" if found["closed"] else "open"
        caption = f"**{found['team']}** on **{split}** (phase {state}): {len(found['entries'])} submissions."
        return my_table([self.board.entry(item["id"]) for item in found["entries"]]), caption

    def pick_ui(self, token: str, team_name: str, split: str, ids: str, profile: gr.OAuthProfile | None) -> tuple:
        """Pick button: store the picks and show the table again."""
        picked = self.pick_final_api(token, team_name, split, ids, profile)["final"]
        table, caption = self.show_ui(token, team_name, split, profile)
        return table, caption + f" Final picks: {', '.join(f'#{i}' for i in picked) or 'none'}."

    def compare_ui(self, token, team_name, split, first, second, profile: gr.OAuthProfile | None) -> pd.DataFrame:
        """Compare button."""
        return comparison_table(self.compare_api(token, team_name, split, first, second, profile))

    def blend_ui(self, token: str, team_name: str, split: str, ids: str, profile: gr.OAuthProfile | None) -> str:
        """Blend button: the new entry's score."""
        entry = self.blend_api(token, team_name, split, ids, profile)
        part = " (public part)" if self.board.is_hidden(split) else ""
        return f"Blend stored as **#{entry['id']}**: mean Pearson's r{part} **{entry['mean_pearson']:.4f}**."

    def build(self) -> None:
        """Create the tab's components and events inside the current ``gr.Blocks``."""
        gr.Markdown(
            "Your team's own submissions (rejected ones with their reasons), its picks for the final ranking "
            f"(at most {self.board.final_picks} per hidden split; without picks, its best public ones count), a "
            "per-emotion comparison of two submissions and the score of a blend. A comparison and a blend are "
            "scorings: each counts towards the team's daily limit."
        )
        with gr.Row():
            token, team = identity_inputs(self.identities)
            split = gr.Radio(list(SPLITS), value=SPLITS[-1], label="Split")
            show = gr.Button("Show my submissions", variant="primary", elem_id="emi-my-show")
        caption = gr.Markdown(elem_id="emi-my-caption")
        table = gr.Dataframe(headers=MY_COLUMNS, interactive=False, wrap=True, elem_id="emi-my-submissions")
        with gr.Row():
            picks = gr.Textbox(label="Final picks (ids)", placeholder="3, 7")
            pick = gr.Button("Pick as final")
        with gr.Row():
            first = gr.Number(label="Compare submission #", precision=0)
            second = gr.Number(label="with submission #", precision=0)
            compare = gr.Button("Compare (counted)")
        comparison = gr.Dataframe(headers=COMPARE_COLUMNS, interactive=False, elem_id="emi-comparison")
        with gr.Row():
            blend_ids = gr.Textbox(label="Blend submissions (ids)", placeholder="3, 7")
            blend = gr.Button("Score the blend (counted)")
        blended = gr.Markdown(elem_id="emi-blend")

        who = [token, team, split]
        private = {"api_visibility": "private"}
        show.click(self.show_ui, who, [table, caption], **private)
        pick.click(self.pick_ui, [*who, picks], [table, caption], **private)
        compare.click(self.compare_ui, [*who, first, second], comparison, **private)
        blend.click(self.blend_ui, [*who, blend_ids], blended, **private)
        counted = {"concurrency_limit": 1, "concurrency_id": "submit"}
        json_endpoint(
            self.my_submissions_api, who, "my_submissions",
            "team token (team_name on an open board), split → every own submission, rejected ones with reasons.",
        )
        json_endpoint(self.pick_final_api, [*who, picks], "pick_final", "…, ids → the team's final picks.", **counted)
        json_endpoint(
            self.compare_api, [*who, first, second], "compare",
            "…, two own submission ids → per-emotion r of both and paired bootstrap p-values (counted).", **counted,
        )
        json_endpoint(
            self.blend_api, [*who, blend_ids], "blend",
            "…, ids → the average of those submissions scored as a new submission (counted).", **counted,
        )
