"""Upload → radar drawn in Chromium, next to the pipeline call and ``emi predict`` on the same 10 s clip.

Usage:
    python benchmarks/bench_app.py [--runs 6] [--media DIR]

Needs Debian's Chromium at /usr/bin/chromium (``apt-get install chromium``) and Playwright (test extra).
Prints, in seconds (medians; the first browser and pipeline runs are warm-ups and left out):

* ``browser``: from choosing the file in the page to the radar's legend being drawn (upload, queue,
  analysis, JSON/plot transfer, plotly rendering), and the part of it after pressing *Estimate*;
* ``pipeline``: ``EMIPipeline(clip)`` with the model already loaded (what the app computes);
* ``emi predict``: the command as a new process (includes Python start-up and model loading);
and the ratios browser / pipeline (what the app adds) and browser / emi predict.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench_media import DEFAULT_MEDIA  # noqa: E402

from tests.media_tools import convert  # noqa: E402
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, RADAR_DRAWN  # noqa: E402

PORT = 7995


def browser_times(clip: Path, runs: int) -> list[tuple[float, float]]:
    """``(upload → radar, click → radar)`` times in Chromium against the app served on ``PORT``."""
    from playwright.sync_api import sync_playwright

    from demo.app import build_app, launch_options

    app = build_app()
    app.launch(**(launch_options() | {"server_port": PORT, "prevent_thread_lock": True, "quiet": True}))
    times = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            for _ in range(runs):
                page = browser.new_page(viewport={"width": 1280, "height": 1500})
                page.goto(f"http://127.0.0.1:{PORT}/")
                page.wait_for_selector("#emi-radar .js-plotly-plot")
                block = page.locator(".block").filter(has_text="Video — upload or record").first
                start = time.perf_counter()
                block.locator("input[type=file]").set_input_files(str(clip))
                block.locator("video").wait_for()
                clicked = time.perf_counter()
                page.click("#emi-estimate")
                page.wait_for_selector(RADAR_DRAWN, timeout=120_000)
                done = time.perf_counter()
                times.append((done - start, done - clicked))
                page.close()
            browser.close()
    finally:
        app.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--media", type=Path, default=DEFAULT_MEDIA)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="emi-bench-app-"))
    os.environ.update(EMI_SUBMISSIONS_DIR=str(scratch / "store"), GRADIO_TEMP_DIR=str(scratch / "gradio"))
    clip = convert(args.media / "obama_weekly_address_talk_neutral_12s.mp4", scratch / "speech_10s.mp4", "-t", "10")

    measured = browser_times(clip, args.runs)[1:]
    browser = [total for total, _ in measured]
    after_click = [click for _, click in measured]
    from demo.app import load_pipeline

    pipeline = load_pipeline()
    pipeline_times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        pipeline(clip)
        pipeline_times.append(time.perf_counter() - start)
    pipeline_times = pipeline_times[1:]
    cli_times = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "emi_core", "predict", str(clip), "--json"], capture_output=True, check=True
        )
        cli_times.append(time.perf_counter() - start)

    med = statistics.median
    print(f"# 10 s clip, medians; machine: {os.cpu_count()} cores")
    print(f"browser upload -> radar drawn  {med(browser):6.2f} s   {[round(t, 2) for t in browser]}")
    print(f"  of which click -> radar      {med(after_click):6.2f} s   {[round(t, 2) for t in after_click]}")
    print(f"pipeline call (model loaded)   {med(pipeline_times):6.2f} s   {[round(t, 2) for t in pipeline_times]}")
    print(f"emi predict (new process)      {med(cli_times):6.2f} s   {[round(t, 2) for t in cli_times]}")
    print(
        f"# app / pipeline = {med(browser) / med(pipeline_times):.2f}x; "
        f"app / emi predict = {med(browser) / med(cli_times):.2f}x"
    )


if __name__ == "__main__":
    main()
