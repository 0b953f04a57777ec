"""Assemble the EMI studio Gradio app from its tabs, and the settings it is served with."""

from __future__ import annotations

import os
from pathlib import Path

import gradio as gr
from starlette.middleware import Middleware

from demo.about import build_about
from demo.estimate import EstimateTab
from demo.explain import ExplanationPanel
from demo.leaderboard import CSS as leaderboard_css
from demo.leaderboard import LeaderboardTab
from demo.live import LiveTab
from demo.score import ScoreTab
from demo.team import TeamTab
from demo.transcript import TranscriptView
from demo.uploads import ExampleClips, ResultFiles, RunFolders, UploadLedgerMiddleware
from emi_core.leaderboard import SPLITS, Leaderboard
from emi_core.leaderboard.config import default_store_dir, ground_truth_variable
from emi_core.leaderboard.identity import Identities, TeamMap, auth_mode
from emi_core.leaderboard.ratelimit import RateLimiter
from emi_core.media import MediaLimits
from emi_core.pipeline import EMIPipeline

TITLE = "EMI studio"

PUBLIC_LIMITS = MediaLimits(max_duration_s=60.0, max_file_mb=200.0, max_side=640, truncate=True)
"""Clip limits for public hosting: longer clips are cut to their first minute, with a warning."""

MAX_FILE_SIZE = "200mb"
"""Largest upload Gradio accepts (matches ``PUBLIC_LIMITS.max_file_mb``)."""

CONCURRENCY = 2
"""Requests processed at once (a free Space has 2 CPU cores); the rest wait in the queue."""

QUEUE_SIZE = 32
"""Requests that may wait in the queue before new ones are turned away."""

CACHE_DELETION = (300, 1500)
"""Gradio deletes its cached files (uploads never analysed, served downloads, the player's copy) older
than 25 min, every 5 min: none stays over 30 min (``KEPT_MINUTES``)."""

CHECKS_PER_MINUTE = 10
"""Anonymous CSV checks (``/score``) one client address may make per minute."""

EXAMPLES_DIR = Path(__file__).with_name("examples")

HEADER = f"""# {TITLE}
Estimate the six **Emotional Mimicry Intensities** of the ABAW challenge — Admiration, Amusement,
Determination, Empathic Pain, Excitement, Joy — from a video or a voice recording; score challenge
files and keep a leaderboard. How it works, the model card and privacy: *About*."""


def example_clips() -> ExampleClips:
    """The redistributable example clips in ``demo/examples``."""
    return ExampleClips(sorted(EXAMPLES_DIR.glob("*.mp4")))


def load_pipeline(name_or_path: str | None = None) -> EMIPipeline:
    """The model (``$EMI_MODEL``, else the offline EMI prior) with the public clip limits."""
    return EMIPipeline.from_pretrained(name_or_path, limits=PUBLIC_LIMITS)


def build_app(
    pipeline: EMIPipeline | None = None,
    board: Leaderboard | None = None,
    examples: ExampleClips | None = None,
    folders: RunFolders | None = None,
    identities: Identities | None = None,
) -> gr.Blocks:
    """Return the EMI studio Blocks, queued and ready to launch (see :func:`launch_options`).

    The model is loaded once, here, unless ``pipeline`` is given; ``board`` defaults to the store in
    ``$EMI_SUBMISSIONS_DIR`` with the ground truth named by ``$EMI_GROUND_TRUTH_VAL`` / ``_TEST``;
    ``identities`` to ``$EMI_AUTH`` (team tokens by default) with the team map of ``$EMI_TEAM_MAP``.
    Uploads, Gradio's cache and result files go to this app's own ``folders`` (new ones by default,
    made Gradio's upload folder here; kept as ``app.run_folders``, deleted by its ``cleanup()`` or at exit).
    """
    pipeline = pipeline or load_pipeline()
    board = board or Leaderboard.from_env()[0]  # restored from, and mirrored to, $EMI_STORE_DATASET if set
    identities = identities or Identities(auth_mode(), board.member_for_token, TeamMap.from_env())
    examples = examples if examples is not None else example_clips()
    folders = folders or RunFolders()
    folders.activate()
    files = ResultFiles(folders.results)
    leaderboard = LeaderboardTab(board, files)
    with gr.Blocks(title=TITLE, delete_cache=CACHE_DELETION, analytics_enabled=False) as app:
        gr.Markdown(HEADER)
        with gr.Tabs():
            with gr.Tab("Estimate", id="estimate"):
                views = {"beside_radar": [ExplanationPanel()], "under_timeline": [TranscriptView()]}
                EstimateTab(pipeline, examples, files, views=views).build()
            with gr.Tab("Live", id="live"):
                LiveTab.for_pipeline(pipeline).build()
            with gr.Tab("Score", id="score"):
                ScoreTab(board, examples, identities, RateLimiter(CHECKS_PER_MINUTE)).build()
            with gr.Tab("Leaderboard", id="leaderboard") as leaderboard_tab:
                leaderboard.build()
            with gr.Tab("My team", id="team"):
                TeamTab(board, identities).build()
            with gr.Tab("About", id="about"):
                build_about(pipeline.model)
        leaderboard.refresh_on(leaderboard_tab.select)
    app.run_folders = folders
    return app.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)


def protected_paths() -> list[str]:
    """Paths the app must never serve: the leaderboard store and the configured ground-truth files."""
    paths = [default_store_dir()]
    paths += [Path(os.environ[variable]) for variable in map(ground_truth_variable, SPLITS) if os.environ.get(variable)]
    return [str(path.resolve()) for path in paths]


def launch_options() -> dict:
    """Keyword arguments of ``Blocks.launch`` for serving EMI studio (locally or on a Space).

    Listens on ``$GRADIO_SERVER_NAME`` / ``$GRADIO_SERVER_PORT`` (default 127.0.0.1:7860); serves no
    file outside Gradio's own upload and cache folders; shows only the app's one-line messages (an
    unexpected error shows a generic message, its traceback stays in the server log); records no
    run history in the browser; tells the upload ledger about every upload (so identical uploads
    never delete each other's file, and aborted ones are swept).
    """
    return {
        "server_name": os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        "server_port": int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        "max_file_size": MAX_FILE_SIZE,
        "show_error": False,
        "allowed_paths": [],
        "blocked_paths": protected_paths(),
        "run_history": False,
        "footer_links": ["api", "gradio"],
        "app_kwargs": {"middleware": [Middleware(UploadLedgerMiddleware)]},
        "css": leaderboard_css,
    }
