"""The Leaderboard tab: the store's ranking as a table, its safe CSV export, and the API endpoint."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import gradio as gr
import pandas as pd

from demo.api import json_endpoint, user_errors
from demo.uploads import ResultFiles
from emi_core.emotions import EMOTIONS
from emi_core.leaderboard import SPLITS, Leaderboard, RankedEntry
from emi_core.leaderboard.teams import team_key

DISPLAY_COLUMNS = ["#", "team", "mean r", "95% CI", *EMOTIONS, "date (UTC)", "subs", "p vs #1", "description"]
"""Table headers; *subs* is the team's number of submissions to the split, *p vs #1* the p-value against the leader."""
ALWAYS_SHOWN = ("#", "team", "mean r")
OPTIONAL_COLUMNS = [column for column in DISPLAY_COLUMNS if column not in ALWAYS_SHOWN]
SINCE = {"any time": None, "last 24 hours": timedelta(days=1), "last 7 days": timedelta(days=7)}
"""The date filter of the table."""

CSS = """
#emi-leaderboard th, #emi-leaderboard th * { word-break: keep-all; overflow-wrap: normal; hyphens: none; }
"""
"""Headers wrap between words only (``Empathic Pain`` never becomes ``Empathi/c Pain``)."""


def format_p_value(p_value: float | None) -> str:
    """A p-value for people: ``< 0.001`` below that (bootstrap p-values are not finer), else 3 decimals."""
    if p_value is None:
        return "—"
    return "< 0.001" if p_value < 0.001 else f"{p_value:.3f}"


def ranking_rows(board: Leaderboard, split: str, all_submissions: bool = False) -> list[dict]:
    """The ranking as JSON-ready records: rank, team, mean and its 95% CI, per-emotion r, date,
    the team's number of submissions to the split (scored and rejected), p-value against the leader."""
    counts = Counter(team_key(entry.team) for entry in board.entries(split))
    return [_record(ranked, counts[team_key(ranked.entry.team)]) for ranked in board.ranking(split, all_submissions)]


def _record(ranked: RankedEntry, submissions: int) -> dict:
    entry = ranked.entry
    final = ranked.ranked_on == "private"
    ci95 = entry.private_ci95 if final else entry.ci95
    return {
        "rank": ranked.rank,
        "id": entry.id,
        "team": entry.team,
        "mean_pearson": ranked.score,
        "ci95": list(ci95) if ci95 else None,
        "per_emotion": dict((entry.private_per_emotion if final else entry.per_emotion) or {}),
        "submitted_at": entry.submitted_at,
        "submissions": submissions,
        "p_value_vs_leader": ranked.p_value,
        "description": entry.description,
        "ranked_on": ranked.ranked_on,
    }


def ranking_table(rows: list[dict], columns: list[str] | None = None, since: str = "any time") -> pd.DataFrame:
    """Display form of :func:`ranking_rows`: numbers rounded, p-values as ``< 0.001``; only ``columns``
    (with the rank, team and mean always) and rows submitted within ``since`` (a key of :data:`SINCE`)."""
    shown = [column for column in DISPLAY_COLUMNS if column in ALWAYS_SHOWN or columns is None or column in columns]
    window = SINCE.get(since)
    cutoff = None if window is None else datetime.now(timezone.utc) - window
    table = []
    for row in rows:
        submitted = datetime.strptime(row["submitted_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        if cutoff is not None and submitted < cutoff:
            continue
        low, high = row["ci95"] or (None, None)
        cells = {
            "#": row["rank"],
            "team": row["team"],
            "mean r": round(row["mean_pearson"], 4),
            "95% CI": f"{low:.3f} – {high:.3f}" if low is not None else "",
            **{emotion: round(row["per_emotion"][emotion], 4) for emotion in EMOTIONS},
            "date (UTC)": row["submitted_at"].replace("T", " ").rstrip("Z"),
            "subs": row["submissions"],
            "p vs #1": format_p_value(row["p_value_vs_leader"]),
            "description": row["description"],
        }
        table.append([cells[column] for column in shown])
    return pd.DataFrame(table, columns=shown)


def ranking_caption(rows: list[dict], split: str, all_submissions: bool) -> str:
    """What the table ranks, and on which part of the split."""
    counted = f"{len(rows)} {'submissions' if all_submissions else 'teams'} ranked on **{split}**"
    ranked_on = rows[0]["ranked_on"] if rows else "all"
    return counted + {
        "all": ".",
        "public": " — on its **public part** during the phase (hidden split; the final ranking uses the private part).",
        "private": " — **final ranking** on the private part (the phase is closed; each team's final picks).",
    }[ranked_on]


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

    def refresh(
        self, split: str, all_submissions: bool, columns: list[str] | None = None, since: str = "any time"
    ) -> tuple:
        """Refresh button, tab opened, options changed: the table and a fresh safe CSV export."""
        with user_errors():
            rows = ranking_rows(self.board, split, all_submissions)
            export = self.files.new_folder() / f"emi_leaderboard_{split}.csv"
            self.board.export_csv(export, split)
        return ranking_table(rows, columns, since), ranking_caption(rows, split, all_submissions), str(export)

    def build(self) -> None:
        """Create the tab's components and events inside the current ``gr.Blocks``."""
        gr.Markdown(
            "Best scored submission per team, ranked by mean Pearson's r (search the table, choose columns, "
            "filter by date). On a hidden split the board shows its public part until the phase closes. "
            "The 95% interval comes from a "
            "bootstrap over videos; *subs* counts the team's submissions to the split (scored and rejected); "
            "*p vs #1* is a paired bootstrap p-value of the gap to the first place (a large p: the gap may be chance)."
        )
        with gr.Row():
            split = gr.Radio(list(SPLITS), value=SPLITS[0], label="Split")
            all_submissions = gr.Checkbox(label="Show all submissions", value=False)
            since = gr.Dropdown(list(SINCE), value="any time", label="Submitted", min_width=160)
            refresh = gr.Button("Refresh", size="sm")
            export = gr.DownloadButton("Download CSV (all submissions)", size="sm")
        columns = gr.CheckboxGroup(OPTIONAL_COLUMNS, value=OPTIONAL_COLUMNS, label="Columns")
        caption = gr.Markdown(elem_id="emi-leaderboard-caption")
        table = gr.Dataframe(
            headers=DISPLAY_COLUMNS,
            interactive=False,
            show_search="filter",
            wrap=True,
            pinned_columns=2,
            elem_id="emi-leaderboard",
        )
        self.inputs = [split, all_submissions, columns, since]
        self.outputs = [table, caption, export]
        for trigger in (refresh.click, split.change, all_submissions.change, columns.change, since.change):
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
