"""The Score tab: check a submission CSV (anyone, rate-limited per client), and submit it for a team
identified by its token or its Hugging Face sign-in. A hidden split is never scored by a check: only
a counted submission scores it, and only its public part is shown during the phase. Validation,
scoring, identities and the store live in ``emi_core``.
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
from emi_core.leaderboard.identity import Identities, Member
from emi_core.leaderboard.ratelimit import RateLimiter
from emi_core.scoring import GroundTruth, GroundTruthError, score_submission

INVALID, VALID, SCORED = "invalid", "valid", "scored"

PROBLEM_COLUMNS = ["line", "column", "problem"]


def _ground_truth(board: Leaderboard, split: str) -> tuple[GroundTruth | None, str]:
    """The split's ground truth, or ``None`` and why not (not configured, unreadable or invalid)."""
    try:
        return board.ground_truth(split), ""
    except (LeaderboardError, GroundTruthError) as err:
        return None, str(err)


def check_submission(board: Leaderboard, raw: bytes, split: str) -> dict:
    """Validate ``raw`` CSV bytes for ``split``; score them only when the split's labels are public.

    Returns the JSON-ready outcome: ``status`` (``invalid`` / ``valid`` / ``scored``), ``n_rows``,
    the first problems (line, column, message) and their count ``n_problems``, the score ``report``
    or ``None``, whether the split is ``hidden``, ``submittable`` and a ``message``. On a hidden
    split nothing depends on its labels, and unknown or missing ids are only counted. An unknown
    split raises :class:`~emi_core.leaderboard.LeaderboardError`.
    """
    check_split(split)
    truth, unavailable = _ground_truth(board, split)
    hidden = board.is_hidden(split)
    result = board.validate(split, raw)
    outcome = {
        "split": split,
        "hidden": hidden,
        "n_rows": result.n_rows,
        "problems": [p.to_dict() for p in result.problems],
        "n_problems": result.n_problems,
        "report": None,
        "submittable": result.ok and truth is not None,
    }
    if not result.ok:
        count = result.n_problems
        shown = f" (the first {len(result.problems)} are listed)" if count > len(result.problems) else ""
        return {**outcome, "status": INVALID, "message": f"{count:,} problem{'s' * (count != 1)} found{shown}"}
    if truth is None:
        message = (
            f"The format is valid ({result.n_rows} rows), but it cannot be scored: {unavailable}. "
            f"To score, start the app with {ground_truth_variable(split)}=/path/to/{split}_ground_truth.csv."
        )
        return {**outcome, "status": VALID, "message": message}
    if hidden:
        message = (
            f"The file is valid for {split!r} ({result.n_rows} rows, every video once). {split!r} is a hidden "
            "split: it is scored only when your team submits the file (a counted submission), and only its "
            "public part is shown until the phase closes."
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
        if truth is not None and board.is_hidden(split):
            lines.append(
                f"- **{split}**: hidden split ({len(truth)} videos): checks validate only; a team's submission "
                "is scored on the public part until the phase closes."
            )
        elif truth is not None:
            lines.append(f"- **{split}**: ground truth configured ({len(truth)} videos): files are scored.")
        else:
            lines.append(f"- **{split}**: {unavailable} — files are checked for format only.")
    return "\n".join(lines)


def entry_markdown(entry, hidden: bool) -> str:
    """What the store kept for an accepted submission."""
    low, high = entry.ci95
    part = " on the public part" if hidden else ""
    return (
        f"Submitted as **#{entry.id}** for **{entry.team}** ({entry.split}, {entry.submitted_at}): "
        f"mean Pearson's r{part} **{entry.mean_pearson:.4f}** (95% CI {low:.4f} – {high:.4f}). See *Leaderboard*."
    )


def identity_banner(identities: Identities) -> str:
    """How submitters are identified on this board (an open board says so loudly)."""
    return {
        "token": "Submitting needs your **team token** (the organiser gives it to each team once).",
        "oauth": "Submitting needs a **Hugging Face sign-in** of an account on the organiser's team list "
        "(or a team token).",
        "open": "⚠️ **Open board**: the organiser chose not to check identities — anyone may submit under any "
        "team name. Do not trust this board's team names.",
    }[identities.mode]


def identify(identities: Identities, token: str, team_name: str, profile: gr.OAuthProfile | None) -> Member:
    """The member behind a request: a team token, a signed-in account on the team map, or (open board)
    a typed team name; a one-line message otherwise."""
    username = getattr(profile, "username", None) if profile is not None else None
    with user_errors():
        return identities.member(token=token or "", username=username, team_name=team_name or "")


def identity_inputs(identities: Identities) -> tuple[gr.Textbox, gr.Textbox]:
    """The components a member identifies with (a sign-in button too in ``oauth`` mode): token, team name."""
    if identities.mode == "oauth":
        gr.LoginButton()
    token = gr.Textbox(
        label="Team token",
        type="password",
        placeholder="emi_…",
        elem_classes="emi-team-token",
        visible=identities.mode != "open",
    )
    team = gr.Textbox(
        label="Team name", max_length=40, placeholder="letters, digits, space . _ -", visible=identities.mode == "open"
    )
    return token, team


def client_address(request: gr.Request | None) -> str:
    """The key of a client for rate limits: its address as the server sees it."""
    client = getattr(request, "client", None)
    return getattr(client, "host", None) or "unknown"


class ScoreTab:
    """Builds the Score tab and the ``score`` and ``submit`` API endpoints over one leaderboard store."""

    def __init__(self, board: Leaderboard, examples: ExampleClips, identities: Identities, limiter: RateLimiter):
        self.board = board
        self.examples = examples
        self.identities = identities
        self.limiter = limiter

    def read_upload(self, path: str | None) -> bytes:
        """The uploaded CSV's bytes; the uploaded file is deleted (the bytes stay in this session only)."""
        if not path:
            raise message("Upload a submission CSV first.")
        try:
            return Path(path).read_bytes()
        finally:
            forget_upload(path, self.examples)

    def check(self, csv_file: str | None, split: str, request: gr.Request | None) -> tuple[bytes, dict]:
        """Rate-limited check of an upload (per client address); returns its bytes and the outcome."""
        with user_errors():
            self.limiter.take(client_address(request), "checks")
        raw = self.read_upload(csv_file)
        with user_errors():
            return raw, check_submission(self.board, raw, split)

    def score_api(self, csv_file: str | None, split: str, request: gr.Request) -> dict:
        """API: a submission CSV and a split → every problem with its line, or the score where labels are public."""
        return self.check(csv_file, split, request)[1]

    def identify(self, token: str, team_name: str, profile: gr.OAuthProfile | None) -> Member:
        """The submitter: a team token, a signed-in account on the team map, or (open board) a typed name."""
        return identify(self.identities, token, team_name, profile)

    def submit_file(self, raw: bytes, split: str, member: Member, description: str) -> dict:
        """Submit for ``member``'s team; the stored entry as JSON (a rejected file raises its reasons)."""
        with user_errors():
            entry = self.board.submit(member.team, split, raw, description, account=member.account)
        return {**entry.to_dict(), "hidden": self.board.is_hidden(split)}

    def submit_api(
        self,
        csv_file: str | None,
        split: str,
        token: str,
        team_name: str,
        description: str,
        profile: gr.OAuthProfile | None,
    ) -> dict:
        """API: submit a CSV for the team of ``token`` (or of the signed-in account) → the stored entry."""
        raw = self.read_upload(csv_file)  # first: the upload is released whatever happens next
        return self.submit_file(raw, split, self.identify(token, team_name, profile), description)

    def score_ui(self, csv_file: str | None, split: str, request: gr.Request) -> tuple:
        """Check button: show the problems or the Pearson bars; keep a valid file for submitting."""
        name = Path(csv_file).name if csv_file else ""
        raw, outcome = self.check(csv_file, split, request)
        report = outcome["report"]
        figure = (
            plots.pearson_figure(report["per_emotion"], report["mean_pearson"], f"Pearson's r per emotion ({split})")
            if report
            else None
        )
        submittable = outcome["submittable"]
        return (
            outcome_markdown(outcome, name),
            gr.Dataframe(problems_table(outcome["problems"]), visible=bool(outcome["problems"])),
            gr.Plot(figure, visible=figure is not None),
            {"name": name, "split": split, "raw": raw} if submittable else None,
            gr.Button(interactive=submittable),
            None,
            "",
        )

    def submit_ui(
        self, pending: dict | None, token: str, team_name: str, description: str, profile: gr.OAuthProfile | None
    ) -> tuple:
        """Submit button: score and store the checked file for the identified team (the store's rules apply)."""
        if not pending:
            raise message("Check a file first: only a valid file can be submitted.")
        member = self.identify(token, team_name, profile)
        try:
            entry = self.board.submit(
                member.team, pending["split"], pending["raw"], description, account=member.account
            )
        except SubmissionRejected as err:
            return f"Rejected: {err}", pending, gr.Button(interactive=True)
        except LeaderboardError as err:
            raise message(str(err)) from None
        return entry_markdown(entry, self.board.is_hidden(entry.split)), None, gr.Button(interactive=False)

    def build(self) -> None:
        """Create the tab's components and events inside the current ``gr.Blocks``."""
        gr.Markdown(
            "Check a challenge CSV (`Filename` + the six emotions, one row per video) before you submit it. "
            "Problems are listed with their line. A split with public labels is scored at once; a hidden split "
            "only when your team submits (counted towards its daily limit)."
        )
        gr.Markdown(truth_status_markdown(self.board), elem_id="emi-truth-status")
        with gr.Row():
            with gr.Column(scale=1, min_width=280):
                csv_file = gr.File(file_types=[".csv"], label="Submission CSV", elem_id="emi-score-file")
                split = gr.Radio(list(SPLITS), value=SPLITS[0], label="Split")
                button = gr.Button("Check", variant="primary", elem_id="emi-score-button")
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
            gr.Markdown(identity_banner(self.identities), elem_id="emi-identity-banner")
            gr.Markdown(
                f"Only a checked, valid file can be submitted. At most {self.board.daily_limit} scorings per "
                "team, split and UTC day (submissions, blends and comparisons); rejected files do not count. "
                "The store keeps the scored file in canonical form."
            )
            pending = gr.State(None)
            with gr.Row():
                token, team = identity_inputs(self.identities)
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
            inputs=[pending, token, team, description],
            outputs=[submitted, pending, submit],
            api_visibility="private",
            concurrency_limit=1,
            concurrency_id="submit",
        )
        json_endpoint(
            self.score_api,
            [csv_file, split],
            "score",
            "A submission CSV and a split (val or test) → {status: invalid|valid|scored, problems: the first "
            "[{line, column, message}], n_problems, report: {mean_pearson, per_emotion, n, warnings} (splits with "
            "public labels only), message}. Rate-limited per client.",
        )
        json_endpoint(
            self.submit_api,
            [csv_file, split, token, team, description],
            "submit",
            "Submit a CSV to a split for the team of a team token (team_name only on an open board) → the "
            "stored entry (public-part scores on a hidden split). Counted towards the team's daily limit.",
            concurrency_limit=1,
            concurrency_id="submit",
        )
