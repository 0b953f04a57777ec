"""The team-token path end to end in a real browser (Debian's Chromium driven by Playwright):
check a file on the hidden split, submit it with the team's token, see the team on the board and
in *My team*; a wrong token is refused."""

from __future__ import annotations

import numpy as np
import pytest
from playwright.sync_api import sync_playwright

from emi_core.leaderboard import Leaderboard
from emi_core.scoring import write_submission
from tests.app_server import TRUTH_IDS, running_app
from tests.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("board_app")) as running:
        yield running


@pytest.fixture()
def page(server):
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1500})
        page.goto(server.url)
        page.get_by_role("tab", name="Score").wait_for()
        yield page
        browser.close()


def toasts(page) -> str:
    return " ".join(page.locator("[data-testid=toast-body]").all_inner_texts())


def test_submit_with_a_team_token_in_the_browser(page, server, tmp_path):
    token = Leaderboard(server.store_dir).add_team("Team Browser")
    values = np.clip(server.test_truth_values + np.random.default_rng(1).normal(0, 0.1, (len(TRUTH_IDS), 6)), 0, 1)
    path = write_submission(tmp_path / "browser_run.csv", TRUTH_IDS, values)
    page.get_by_role("tab", name="Score").click()
    page.locator("#emi-score-file input[type=file]").set_input_files(str(path))
    page.locator("#emi-score-file").get_by_text("browser_run.csv").wait_for()
    page.get_by_label("test", exact=True).first.check()
    page.click("#emi-score-button")
    outcome = page.locator("#emi-score-outcome")
    outcome.get_by_text("hidden split").wait_for(timeout=90_000)
    assert "Valid: browser_run.csv" in outcome.inner_text() and "Pearson" not in outcome.inner_text()
    token_box = page.locator(".emi-team-token input").first
    token_box.fill(token[:-4] + "zzzz")
    page.click("#emi-submit")
    page.locator("[data-testid=toast-body]").first.wait_for(timeout=90_000)
    assert "team token is not valid" in toasts(page)
    assert "Submitted" not in page.locator("#emi-submitted").inner_text()
    token_box.fill(token)
    page.click("#emi-submit")
    submitted = page.locator("#emi-submitted")
    submitted.get_by_text("Team Browser").wait_for(timeout=90_000)
    text = submitted.inner_text()
    assert "Submitted as #" in text and "on the public part" in text
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "board_submitted.png"), full_page=True)

    page.get_by_role("tab", name="Leaderboard").click()
    page.get_by_label("test", exact=True).last.check()
    page.locator("#emi-leaderboard-caption").get_by_text("public part").wait_for(timeout=90_000)
    page.locator("#emi-leaderboard [data-testid=cell-0-1]").get_by_text("Team Browser").wait_for(timeout=90_000)

    page.get_by_role("tab", name="My team").click()
    page.locator(".emi-team-token input").last.fill(token)
    page.click("#emi-my-show")
    page.locator("#emi-my-caption").get_by_text("Team Browser").wait_for(timeout=90_000)
    assert "scored" in page.locator("#emi-my-submissions").inner_text()
