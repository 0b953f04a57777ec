"""The Score tab: check a submission CSV, score it when the split's ground truth is configured,
and optionally submit it to the leaderboard. Validation, scoring and the store live in ``emi_core``.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pandas as pd

from demo import plots
from demo.api import json_endpoint, message, user_errors
from demo.uploads import ExampleClips, forget_upload
from emi_core.leaderboard import SPLITS, Leaderboard, LeaderboardError, SubmissionRejected
from emi_core.leaderboard.config import check_split, ground_truth_variable
from emi_core.scoring import GroundTruth, GroundTruthError, score_submission, validate_submission

INVALID, VALID, SCORED = "invalid", "valid", "scored"

PROBLEM_COLUMNS = ["line", "column", "problem"]


def _ground_truth(board: Leaderboard, split: str) -> tuple[GroundTruth | None, str]:
    """The split's ground truth, or ``None`` and why not (not configured, unreadable or invalid)."""
    try:
        return board.ground_truth(split), ""
    except (LeaderboardError, GroundTruthError) as err:
        return None, str(err)


def check_submission(board: Leaderboard, raw: bytes, split: str) -> dict:
    """Validate ``raw`` CSV bytes for ``split`` and score them when its ground truth is available.

    Returns the JSON-ready outcome: ``status`` (``invalid`` / ``valid`` / ``scored``), ``n_rows``,
    every ``problem`` (line, column, message), the score ``report`` or ``None`` and a ``message``.
    An unknown split raises :class:`~emi_core.leaderboard.LeaderboardError`.
    """
    check_split(split)
    truth, unavailable = _ground_truth(board, split)
    result = validate_submission(raw, truth)
    outcome = {
        "split": split,
        "n_rows": result.n_rows,
        "problems": [p.to_dict() for p in result.problems],
        "report": None,
    }
    if not result.ok:
        count = len(result.problems)
        return {**outcome, "status": INVALID, "message": f"{count} problem{'s' * (count != 1)} found"}
    if truth is None:
        message = (
            f"The format is valid ({result.n_rows} rows), but it cannot be scored: {unavailable}. "
            f"To score, start the app with {ground_truth_variable(split)}=/path/to/{split}_ground_truth.csv."
        )
        return {**outcome, "status": VALID, "message": message}
    report = score_submission(result, truth)
    return {
        **outcome,
        "status": SCORED,
        "report": report.to_dict(),
        "message": f"mean Pearson's r = {report.mean_pearson:.4f} over {report.n} videos",
    }


def problems_table(problems: list[dict]) -> pd.DataFrame:
    """Every problem as a row: CSV line (``—`` for the whole file), column and message."""
    rows = [
        {"line": "—" if p["line"] is None else str(p["line"]), "column": p["column"] or "—", "problem": p["message"]}
        for p in problems
    ]
    return pd.DataFrame(rows, columns=PROBLEM_COLUMNS)


def outcome_markdown(outcome: dict, name: str) -> str:
    """The headline of a checked file."""
    verdict = {INVALID: "Invalid", VALID: "Valid", SCORED: "Scored"}[outcome["status"]]
    lines = [f"**{verdict}: {name}** ({outcome['split']}): {outcome['message']}"]
    report = outcome["report"]
    if report:
        lines.extend(f"- warning: {warning}" for warning in report["warnings"])
    return "\n".join(lines)


def truth_status_markdown(board: Leaderboard) -> str:
    """Which splits can be scored in this app, and how to configure the others."""
    lines = []
    for split in SPLITS:
        truth, unavailable = _ground_truth(board, split)
        if truth is not None:
            lines.append(f"- **{split}**: ground truth configured ({len(truth)} videos): files are scored.")
        else:
            lines.append(f"- **{split}**: {unavailable} — files are checked for format only.")
    return "\n".join(lines)


def entry_markdown(entry) -> str:
    """What the store kept for an accepted submission."""
    low, high = entry.ci95
    return (
        f"Submitted as **#{entry.id}** for **{entry.team}** ({entry.split}, {entry.submitted_at}): "
        f"mean Pearson's r **{entry.mean_pearson:.4f}** (95% CI {low:.4f} – {high:.4f}). See *Leaderboard*."
    )


class ScoreTab:
    """Builds the Score tab and the ``score`` API endpoint over one leaderboard store."""

    def __init__(self, board: Leaderboard, examples: ExampleClips):
        self.board = board
        self.examples = examples

    def read_upload(self, path: str | None) -> bytes:
        """The uploaded CSV's bytes; the uploaded file is deleted (the bytes stay in this session only)."""
        if not path:
            raise message("Upload a submission CSV first.")
        try:
            return Path(path).read_bytes()
        finally:
            forget_upload(path, self.examples)

    def score_api(self, csv_file: str | None, split: str) -> dict:
        """API: a submission CSV and a split → the score report, or every problem with its line."""
        raw = self.read_upload(csv_file)
        with user_errors():
            return check_submission(self.board, raw, split)

    def score_ui(self, csv_file: str | None, split: str) -> tuple:
        """Check & score button: show the problems or the Pearson bars; keep the file for submitting."""
        name = Path(csv_file).name if csv_file else ""
        raw = self.read_upload(csv_file)
        with user_errors():
            outcome = check_submission(self.board, raw, split)
        report = outcome["report"]
        figure = (
            plots.pearson_figure(report["per_emotion"], report["mean_pearson"], f"Pearson's r per emotion ({split})")
            if report
            else None
        )
        scored = outcome["status"] == SCORED
        return (
            outcome_markdown(outcome, name),
            gr.Dataframe(problems_table(outcome["problems"]), visible=bool(outcome["problems"])),
            gr.Plot(figure, visible=figure is not None),
            {"name": name, "split": split, "raw": raw} if scored else None,
            gr.Button(interactive=scored),
            None,
            "",
        )

    def submit_ui(self, pending: dict | None, team: str, description: str) -> tuple:
        """Submit button: store the scored file under the team name (the store's rules apply)."""
        if not pending:
            raise message("Score a file first: only scored files can be submitted.")
        with user_errors():
            try:
                entry = self.board.submit(team, pending["split"], pending["raw"], description)
            except SubmissionRejected as err:
                return f"Rejected: {err}", pending, gr.Button(interactive=True)
        return entry_markdown(entry), None, gr.Button(interactive=False)

    def build(self) -> None:
        """Create the tab's components and events inside the current ``gr.Blocks``."""
        gr.Markdown(
            "Check a challenge CSV (`Filename` + the six emotions, one row per video) before you submit it. "
            "Every problem is listed with its line; with the split's ground truth configured, the file is "
            "scored (Pearson's r per emotion and their mean) and can go on the leaderboard."
        )
        gr.Markdown(truth_status_markdown(self.board), elem_id="emi-truth-status")
        with gr.Row():
            with gr.Column(scale=1, min_width=280):
                csv_file = gr.File(file_types=[".csv"], label="Submission CSV", elem_id="emi-score-file")
                split = gr.Radio(list(SPLITS), value=SPLITS[0], label="Split")
                button = gr.Button("Check and score", variant="primary", elem_id="emi-score-button")
            with gr.Column(scale=2):
                outcome = gr.Markdown(elem_id="emi-score-outcome")
                problems = gr.Dataframe(
                    headers=PROBLEM_COLUMNS,
                    label="Problems",
                    visible=False,
                    interactive=False,
                    elem_id="emi-problems",
                    wrap=True,
                )
                bars = gr.Plot(visible=False, show_label=False, elem_id="emi-pearson")
        with gr.Accordion("Submit to the leaderboard", open=True):
            gr.Markdown(
                f"Only a scored file can be submitted. At most {self.board.daily_limit} scored submissions per "
                "team, split and UTC day; rejected files do not count. The submitted CSV is kept by the store."
            )
            pending = gr.State(None)
            with gr.Row():
                team = gr.Textbox(label="Team name", max_length=40, placeholder="letters, digits, space . _ -")
                description = gr.Textbox(label="Description (optional)", max_length=500)
            submit = gr.Button("Submit", interactive=False, elem_id="emi-submit")
            submitted = gr.Markdown(elem_id="emi-submitted")

        button.click(
            self.score_ui,
            inputs=[csv_file, split],
            outputs=[outcome, problems, bars, pending, submit, csv_file, submitted],
            api_visibility="private",
        )
        submit.click(
            self.submit_ui,
            inputs=[pending, team, description],
            outputs=[submitted, pending, submit],
            api_visibility="private",
            concurrency_limit=1,
            concurrency_id="submit",
        )
        json_endpoint(
            self.score_api,
            [csv_file, split],
            "score",
            "A submission CSV and a split (val or test) → {status: invalid|valid|scored, "
            "problems: [{line, column, message}], report: {mean_pearson, per_emotion, n, warnings}, message}.",
        )
