"""The Live tab in a real browser: Chromium's fake camera and microphone play a shipped clip (a real
face and voice), the page's intensities must update at least 3 times a second, and Stop ends it all.

The measured update rate goes to ``test-artifacts/live.json`` and a screenshot to ``live.png``.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest
from playwright.sync_api import sync_playwright

from emi_core.media.ffmpeg import ffmpeg_exe
from tests.app_server import running_app
from tests.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, FAKE_MEDIA_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PANEL = """() => {
  const p = document.querySelector('#emi-live-panel');
  return p ? {now: performance.now(), updates: +p.dataset.updates, face: p.dataset.face, text: p.innerText} : null;
}"""
MIN_RATE = 3.0


@pytest.fixture(scope="module")
def fake_capture(media, tmp_path_factory):
    """The shipped CREMA-D clip as the fake camera's Y4M video and the fake microphone's WAV."""
    folder = tmp_path_factory.mktemp("fake_capture")
    clip = media("cremad_1001_talk_happy_m.mp4")
    video, audio = folder / "face.y4m", folder / "voice.wav"
    for args in (["-vf", "scale=320:240,fps=15", "-pix_fmt", "yuv420p", str(video)], ["-vn", "-ac", "1", str(audio)]):
        subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-y", "-i", str(clip), *args], check=True)
    return [f"--use-file-for-fake-video-capture={video}", f"--use-file-for-fake-audio-capture={audio}"]


@pytest.fixture(scope="module")
def live_page(fake_capture, tmp_path_factory):
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    with running_app(tmp_path_factory.mktemp("live_app")) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS + FAKE_MEDIA_ARGS + fake_capture
        )
        context = browser.new_context(viewport={"width": 1280, "height": 1000}, permissions=["camera", "microphone"])
        page = context.new_page()
        page.goto(server.url)
        page.get_by_role("tab", name="Live").click()
        yield page
        browser.close()


def _wait_for(page, predicate, timeout_s: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = page.evaluate(PANEL)
        if state and predicate(state):
            return state
        time.sleep(0.2)
    raise AssertionError(f"live panel never reached the expected state; last: {page.evaluate(PANEL)}")


def test_live_tab_updates_at_least_three_times_a_second(live_page):
    page = live_page
    assert "Start the webcam" in page.evaluate(PANEL)["text"]
    page.locator("#emi-live-camera").get_by_text("Click to Access Webcam").click()
    page.locator("#emi-live-camera button[aria-label='capture photo']").click()
    page.locator("#emi-live-microphone").get_by_role("button", name="Record").click()
    _wait_for(page, lambda s: s["updates"] >= 5 and s["face"] == "True" and "voice heard" in s["text"], 90)
    first = page.evaluate(PANEL)
    time.sleep(8)
    last = page.evaluate(PANEL)
    rate = (last["updates"] - first["updates"]) / ((last["now"] - first["now"]) / 1000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "live.png"))
    (ARTIFACTS / "live.json").write_text(json.dumps({"updates_per_s": round(rate, 2), "panel": last["text"]}))
    assert rate >= MIN_RATE, f"{rate:.2f} updates/s in the page"
    assert "face found" in last["text"] and "updates/s" in last["text"]
    for emotion in ("Admiration", "Joy"):
        assert emotion in last["text"]

    page.click("#emi-live-stop")
    stopped = _wait_for(page, lambda s: s["updates"] == 0, 20)
    assert "Start the webcam" in stopped["text"]
    time.sleep(2)
    assert page.evaluate(PANEL)["updates"] == 0, "no update arrives after Stop"


def test_why_this_number_is_drawn_beside_the_radar(live_page, media):
    page = live_page
    page.get_by_role("tab", name="Estimate").click()
    block = page.locator(".block").filter(has_text="Video — upload or record").first
    block.locator("input[type=file]").set_input_files(str(media("cremad_1001_talk_happy_m.mp4")))
    block.locator("video").wait_for(timeout=30_000)
    page.click("#emi-estimate")
    page.locator("#emi-radar .legendtext >> text=fused").wait_for(timeout=120_000)
    chart = page.locator("#emi-explanation-plot")
    for group in ("expression", "action units", "voice"):
        chart.locator(".legendtext", has_text=group).wait_for(timeout=30_000)
    assert "Exact additive contributions" in page.locator("#emi-explanation-note").inner_text()
    radar, beside = page.locator("#emi-radar").bounding_box(), chart.bounding_box()
    assert beside["x"] >= radar["x"] + radar["width"] - 5 and abs(beside["y"] - radar["y"]) < 100  # beside it
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "why-this-number.png"))
