"""The Leaderboard tab: the store's ranking as a table, its safe CSV export, and the API endpoint."""

from __future__ import annotations

from collections import Counter

import gradio as gr
import pandas as pd

from demo.api import json_endpoint, user_errors
from demo.uploads import ResultFiles
from emi_core.emotions import EMOTIONS
from emi_core.leaderboard import SPLITS, Leaderboard, RankedEntry
from emi_core.leaderboard.teams import team_key

DISPLAY_COLUMNS = ["#", "team", "mean r [95% CI]", *EMOTIONS, "date (UTC)", "subs", "p vs #1", "description"]
"""Table headers; *subs* is the team's number of submissions to the split, *p vs #1* the p-value against the leader."""


def ranking_rows(board: Leaderboard, split: str, all_submissions: bool = False) -> list[dict]:
    """The ranking as JSON-ready records: rank, team, mean and its 95% CI, per-emotion r, date,
    the team's number of submissions to the split (scored and rejected), p-value against the leader."""
    counts = Counter(team_key(entry.team) for entry in board.entries(split))
    return [_record(ranked, counts[team_key(ranked.entry.team)]) for ranked in board.ranking(split, all_submissions)]


def _record(ranked: RankedEntry, submissions: int) -> dict:
    entry = ranked.entry
    return {
        "rank": ranked.rank,
        "id": entry.id,
        "team": entry.team,
        "mean_pearson": entry.mean_pearson,
        "ci95": list(entry.ci95) if entry.ci95 else None,
        "per_emotion": dict(entry.per_emotion or {}),
        "submitted_at": entry.submitted_at,
        "submissions": submissions,
        "p_value_vs_leader": ranked.p_value,
        "description": entry.description,
    }


def ranking_table(rows: list[dict]) -> pd.DataFrame:
    """Display form of :func:`ranking_rows` (numbers rounded, CI inline, p-value "—" for the leader)."""
    table = []
    for row in rows:
        low, high = row["ci95"] or (None, None)
        interval = f" [{low:.3f}, {high:.3f}]" if low is not None else ""
        p_value = row["p_value_vs_leader"]
        table.append(
            [
                row["rank"],
                row["team"],
                f"{row['mean_pearson']:.4f}{interval}",
                *(round(row["per_emotion"][emotion], 4) for emotion in EMOTIONS),
                row["submitted_at"].replace("T", " ").rstrip("Z"),
                row["submissions"],
                "—" if p_value is None else f"{p_value:.3g}",
                row["description"],
            ]
        )
    return pd.DataFrame(table, columns=DISPLAY_COLUMNS)


class LeaderboardTab:
    """Builds the Leaderboard tab and the ``leaderboard`` API endpoint."""

    def __init__(self, board: Leaderboard, files: ResultFiles):
        self.board = board
        self.files = files

    def leaderboard_api(self, split: str, all_submissions: bool) -> dict:
        """API: the ranking of a split as JSON (best submission per team, or all of them)."""
        with user_errors():
            rows = ranking_rows(self.board, split, bool(all_submissions))
        return {"split": split, "all_submissions": bool(all_submissions), "rows": rows}

    def refresh(self, split: str, all_submissions: bool) -> tuple:
        """Refresh button, tab opened, options changed: the table and a fresh safe CSV export."""
        with user_errors():
            rows = ranking_rows(self.board, split, all_submissions)
            export = self.files.new_folder() / f"emi_leaderboard_{split}.csv"
            self.board.export_csv(export, split)
        caption = f"{len(rows)} {'submissions' if all_submissions else 'teams'} ranked on **{split}**."
        return ranking_table(rows), caption, str(export)

    def build(self) -> None:
        """Create the tab's components and events inside the current ``gr.Blocks``."""
        gr.Markdown(
            "Best scored submission per team, ranked by mean Pearson's r. The 95% interval comes from a "
            "bootstrap over videos; *subs* counts the team's submissions to the split (scored and rejected); "
            "*p vs #1* is a paired bootstrap p-value of the gap to the first place (a large p: the gap may be chance)."
        )
        with gr.Row():
            split = gr.Radio(list(SPLITS), value=SPLITS[0], label="Split")
            all_submissions = gr.Checkbox(label="Show all submissions", value=False)
            refresh = gr.Button("Refresh", size="sm")
            export = gr.DownloadButton("Download CSV (all submissions)", size="sm")
        caption = gr.Markdown()
        table = gr.Dataframe(
            headers=DISPLAY_COLUMNS, interactive=False, show_search="filter", wrap=True, elem_id="emi-leaderboard"
        )
        self.inputs = [split, all_submissions]
        self.outputs = [table, caption, export]
        for trigger in (refresh.click, split.change, all_submissions.change):
            self.refresh_on(trigger)
        json_endpoint(
            self.leaderboard_api,
            [split, all_submissions],
            "leaderboard",
            "A split (val or test) and whether to list all submissions → the ranking as JSON.",
        )

    def refresh_on(self, trigger) -> None:
        """Refresh the table on ``trigger`` (e.g. a button's ``click`` or the tab's ``select``)."""
        trigger(self.refresh, self.inputs, self.outputs, api_visibility="private")
