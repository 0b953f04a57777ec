"""The app in a real browser: Debian's Chromium driven by Playwright (never a downloaded browser).

Screenshots and the measured upload-to-radar time go to ``test-artifacts/`` (git-ignored).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from urllib.parse import unquote

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

from demo.estimate import STAGE_LABELS
from emi_core.channels import ROWS
from emi_core.emotions import EMOTIONS
from tests.app_server import running_app
from tests.media_tools import convert

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FAKE_MEDIA_ARGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
"""Chromium's built-in test camera and microphone (a moving pattern and a beep), granted without a prompt."""

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
RADAR_DRAWN = "#emi-radar .legendtext >> text=fused"
"""The result radar is drawn once its legend lists the fused trace (the empty radar has no legend)."""
ANALYSIS_TIMEOUT_MS = 120_000
LIVE_WEBCAM = (
    "() => { const v = document.querySelector('[data-testid=webcam-video]'); return v && v.currentTime > 0.5; }"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("browser_app")) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS + FAKE_MEDIA_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 1500}, permissions=["camera", "microphone"])
    page = context.new_page()
    page.goto(server.url)
    page.wait_for_selector("#emi-radar .js-plotly-plot")  # the page is up, the plot library loaded
    yield page
    context.close()


def video_block(page):
    return page.locator(".block").filter(has_text="Video — upload or record").first


def estimate_and_wait_for_radar(page) -> None:
    page.click("#emi-estimate")
    wait_for_radar(page)


def wait_for_radar(page) -> None:
    """Wait for the result radar; if it never comes, fail with what the page said instead."""
    try:
        page.wait_for_selector(RADAR_DRAWN, timeout=ANALYSIS_TIMEOUT_MS)
    except PlaywrightTimeout:
        summary = page.locator("#emi-summary").inner_text()
        toasts = page.locator("[data-testid=toast-body]").all_inner_texts()
        pytest.fail(f"no result radar; summary: {summary!r}; messages: {toasts}")


def assert_radar_complete(page) -> None:
    radar = page.locator("#emi-radar")
    labels = radar.locator(".angularaxistick text").all_text_contents()
    assert labels == list(EMOTIONS)
    legend = radar.locator(".legendtext").all_text_contents()
    # every channel (with input, or listed as "<channel> (no input)") and fused last
    assert [name.split(" ")[0] for name in legend] == list(ROWS)


def assert_only_the_players_copy_is_left(page, server, name: str) -> None:
    """The upload was deleted; the one copy left on the server is the one the player replays."""
    left = list(server.upload_dir.rglob(name))
    source = video_block(page).locator("video").get_attribute("src") or ""
    assert len(left) == 1 and str(left[0]) in unquote(source), (left, source)


def test_upload_a_clip_and_see_the_radar(page, server, media, tmp_path):
    clip = convert(media("obama_weekly_address_talk_neutral_12s.mp4"), tmp_path / "speech_10s.mp4", "-t", "10")
    started = time.perf_counter()
    video_block(page).locator("input[type=file]").set_input_files(str(clip))
    video_block(page).locator("video").wait_for(timeout=30_000)
    page.click("#emi-estimate")
    stage = re.compile("|".join(STAGE_LABELS[s] for s in ("decode", "faces", "features", "models")))
    page.get_by_text(stage).first.wait_for(timeout=30_000)  # the progress bar names the pipeline's stages
    wait_for_radar(page)
    elapsed = time.perf_counter() - started
    assert_radar_complete(page)
    assert page.locator(".js-plotly-plot .legendtext", has_text="visual").count() == 1
    assert "speech_10s.mp4" in page.locator("#emi-summary").inner_text()
    assert_only_the_players_copy_is_left(page, server, "speech_10s.mp4")
    assert page.locator("#emi-timeline .js-plotly-plot .scatterlayer .trace").count() == len(EMOTIONS)
    links = page.locator("#emi-downloads a[download]")
    names = links.evaluate_all("links => links.map(link => link.getAttribute('download'))")
    assert sorted(names) == [
        "speech_10s.emi.csv", "speech_10s.emi.json", "speech_10s.timeline.csv", "speech_10s.transcript.srt"
    ]  # fmt: skip
    json_link = page.locator("#emi-downloads a[download$='.json']").get_attribute("href")
    downloaded = page.request.get(json_link).json()
    assert downloaded["source"] == "speech_10s.mp4" and list(downloaded["fused"]) == list(EMOTIONS)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "estimate.png"), full_page=True)
    (ARTIFACTS / "browser_timing.json").write_text(
        json.dumps({"clip": "obama weekly address, first 10 s", "upload_to_radar_s": round(elapsed, 2)})
    )


def test_record_with_the_webcam_in_webm(page, server):
    block = video_block(page)
    block.get_by_label("Capture from camera").click()
    block.get_by_text("Click to Access Webcam").click()
    page.wait_for_function(LIVE_WEBCAM, timeout=30_000)
    record = block.get_by_label("start recording")  # the same button starts and stops
    record.click()
    page.wait_for_timeout(3000)
    record.click()
    block.locator("video[src]").wait_for(timeout=30_000)
    estimate_and_wait_for_radar(page)
    assert_radar_complete(page)
    summary = page.locator("#emi-summary").inner_text()
    assert ".webm" in summary and "deleted from the server" in summary
    (recording,) = {path.name for path in server.upload_dir.rglob("*.webm")}
    assert_only_the_players_copy_is_left(page, server, recording)
    assert "no face found" in page.locator("#emi-warnings").inner_text()  # the test camera shows no face


def test_score_lists_problems_by_line(page, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(f"Filename,{','.join(EMOTIONS)}\n42,0.1,0.2,0.3,0.4,0.5,0.6\n00002,0.1,x,0.3,0.4,0.5,0.6\n")
    page.get_by_role("tab", name="Score").click()
    page.locator("#emi-score-file").wait_for()
    page.locator("#emi-score-file input[type=file]").set_input_files(str(bad))
    page.locator("#emi-score-file").get_by_text("bad.csv").wait_for()
    page.click("#emi-score-button")
    problems = page.locator("#emi-problems")
    problems.get_by_text("'x' is not a number").wait_for(timeout=30_000)
    rows = [row.locator("[role=gridcell]").all_inner_texts() for row in problems.locator("div[role=row]").all()]
    assert [cells[:2] for cells in rows[:2]] == [["2", "Filename"], ["3", "Amusement"]]
    assert "Invalid: bad.csv" in page.locator("#emi-score-outcome").inner_text()


def test_a_failed_estimate_leaves_the_page_usable(page, server, media, tmp_path):
    """Nothing uploaded, then a corrupt file: the message stays in the summary, no output shows an
    error badge, and the next estimate of a good clip works."""
    summary = page.locator("#emi-summary")
    page.click("#emi-estimate")
    summary.get_by_text("Not analysed").wait_for(timeout=30_000)
    assert "upload or record a video" in summary.inner_text()

    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00not a video" * 500)
    video_block(page).locator("input[type=file]").set_input_files(str(corrupt))
    page.wait_for_timeout(1000)
    page.click("#emi-estimate")
    summary.get_by_text("corrupt.mp4").wait_for(timeout=60_000)
    text = summary.inner_text()
    assert text.startswith("Not analysed") and "deleted from the server" in text
    assert page.get_by_text("Analysing…").count() == 0
    output_errors = "[...document.querySelectorAll('.error')].filter(e => !e.closest('.toast-body')).length"
    assert page.evaluate(output_errors) == 0  # no output shows an error badge (toasts may come and go)
    assert not list(server.upload_dir.rglob("corrupt.mp4"))

    video_block(page).locator("input[type=file]").set_input_files(str(media("cremad_1001_talk_happy_m.mp4")))
    video_block(page).locator("video").wait_for(timeout=30_000)
    estimate_and_wait_for_radar(page)
    assert_radar_complete(page)
    assert "cremad_1001_talk_happy_m.mp4" in summary.inner_text()


def test_layout_fits_a_laptop_and_a_phone(browser, server):
    """At 1280×800 the Estimate button is visible without scrolling; at 390 px wide nothing is clipped
    (no horizontal scrolling, every block inside the screen). Screenshots in test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    for name, viewport in (("laptop", {"width": 1280, "height": 800}), ("phone", {"width": 390, "height": 844})):
        context = browser.new_context(viewport=viewport, device_scale_factor=1)
        page = context.new_page()
        page.goto(server.url)
        page.wait_for_selector("#emi-radar .js-plotly-plot")
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / f"layout_{name}.png"), full_page=name == "phone")
        if name == "laptop":
            box = page.locator("#emi-estimate").bounding_box()
            assert box["y"] + box["height"] <= viewport["height"], box
        else:
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], width
            outside = page.evaluate(
                """w => [...document.querySelectorAll('.block, button, .js-plotly-plot')]
                    .filter(e => e.offsetParent !== null)
                    .filter(e => { const r = e.getBoundingClientRect();
                                   return r.width > 0 && (r.left < -1 || r.right > w + 1); })
                    .filter(e => { for (let a = e.parentElement; a; a = a.parentElement) {
                                     const o = getComputedStyle(a).overflowX, r = a.getBoundingClientRect();
                                     if (o !== 'visible' && r.left >= -1 && r.right <= w + 1) return false; }
                                   return true; })  // hidden inside a scrolling or clipping box on screen
                    .map(e => (e.id || e.className.toString().slice(0, 40)) + ' ' + e.textContent.slice(0, 30))""",
                viewport["width"],
            )
            assert outside == []
        context.close()
