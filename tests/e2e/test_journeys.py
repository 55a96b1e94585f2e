"""Citizen journeys in headless Chromium against a live server (CSRF on)."""

from __future__ import annotations

import re

import pytest

from tests.e2e.browsing import DESKTOP, PHONE, page_problems, register, screenshot

pytestmark = pytest.mark.e2e


@pytest.fixture()
def context(browser):
    context = browser.new_context(locale="en-US", viewport=DESKTOP)
    context.set_default_timeout(10_000)
    yield context
    context.close()


def follow(page, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("link", name=name, exact=True).first.click()


def card_text(page) -> str:
    return page.locator("#vote-card .proposal-text").inner_text()


def test_register_vote_change_propose_results(context, live_server) -> None:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    register(page, live_server, f"/rounds/{live_server.slug}/vote")
    assert page.url.endswith(f"/rounds/{live_server.slug}/vote")
    seen = []
    for value in ("Agree", "Disagree", "Pass / unsure"):
        text = card_text(page)
        seen.append(text)
        url_before = page.url
        page.get_by_role("button", name=value, exact=True).click()
        page.wait_for_function(
            "t => { const e = document.querySelector('#vote-card .proposal-text');"
            " return e && e.innerText !== t; }", arg=text)
        assert page.url == url_before  # swapped by htmx, no reload
        assert page.locator("#vote-card").get_by_text("Your vote was saved.").is_visible()
        focused = page.evaluate("document.activeElement && document.activeElement.id")
        assert focused == "vote-card-heading"
    assert len(set(seen)) == 3

    # keyboard only: from the focused heading, Tab reaches "Agree", Enter votes
    text = card_text(page)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Agree"
    page.keyboard.press("Enter")
    page.wait_for_function(
        "t => { const e = document.querySelector('#vote-card .proposal-text');"
        " return e && e.innerText !== t; }", arg=text)
    seen.append(text)
    assert "4 proposals" in page.locator("#vote-card").inner_text()

    # change the first vote from the list of all proposals
    follow(page, "All proposals")
    item = page.locator(".proposal-item", has_text=seen[0])
    assert "Agree" in item.locator(".meta").inner_text()
    with page.expect_navigation():
        item.get_by_role("button", name="Disagree", exact=True).click()
    item = page.locator(".proposal-item", has_text=seen[0])
    assert "Disagree" in item.locator(".meta").inner_text()
    assert item.get_by_role("button", name="Disagree", exact=True).get_attribute("aria-pressed") == "true"

    # submit a proposal, with the live counter
    follow(page, "Propose")
    box = page.get_by_label("Your proposal")
    box.fill("Plant more shade trees along the river path")
    assert page.locator("#text-count").inner_text() == f"{280 - 43} characters left"
    with page.expect_navigation():
        page.get_by_role("button", name="Submit proposal").click()
    assert "Your proposal is published" in page.content()
    # the same text again is refused with a link to the existing one
    follow(page, "Propose")
    page.get_by_label("Your proposal").fill("plant more SHADE trees along the river path!")
    with page.expect_navigation():
        page.get_by_role("button", name="Submit proposal").click()
    assert "already exists" in page.content()
    follow(page, "See the existing proposal")
    assert "Plant more shade trees" in page.content()
    # report it (reason required)
    follow(page, "Report")
    with page.expect_navigation():
        page.get_by_role("button", name="Send report").click()
    assert "Please say why" in page.content()
    page.get_by_label("Why should a facilitator look at this proposal?").fill("Test report")
    with page.expect_navigation():
        page.get_by_role("button", name="Send report").click()
    assert "A facilitator will look at your report." in page.content()

    follow(page, "My votes and proposals")
    assert "Plant more shade trees" in page.content() and "Published" in page.content()

    page.goto(f"{live_server.url}/rounds/{live_server.results_slug}/results")
    assert page.get_by_role("heading", name="Opinion map").is_visible()
    assert page.locator("svg.map-svg circle").count() > 50
    assert not errors


def test_switch_language(browser, live_server) -> None:
    context = browser.new_context(locale="ja-JP")
    page = context.new_page()
    page.goto(live_server.url + "/")
    japanese = page.locator("h1").inner_text()
    with page.expect_navigation():
        page.get_by_role("button", name="English").click()
    assert page.locator("h1").inner_text() == "Deliberation rounds"
    assert page.locator("html").get_attribute("lang") == "en"
    with page.expect_navigation():
        page.get_by_role("button", name="日本語").click()
    assert page.locator("h1").inner_text() == japanese
    context.close()


def test_voting_without_javascript(browser, live_server) -> None:
    context = browser.new_context(locale="en-US", java_script_enabled=False)
    page = context.new_page()
    register(page, live_server, f"/rounds/{live_server.slug}/vote")
    first = card_text(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Agree", exact=True).click()
    assert page.url.endswith("/vote")
    assert "Your vote was saved." in page.content()
    second = card_text(page)
    assert second != first
    with page.expect_navigation():
        page.get_by_role("button", name="Disagree", exact=True).click()
    page.goto(f"{live_server.url}/rounds/{live_server.slug}/mine")
    content = page.content()
    assert first in content and second in content
    context.close()


def test_anonymous_vote_goes_to_login(browser, live_server) -> None:
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.goto(f"{live_server.url}/rounds/{live_server.slug}")
    follow(page, "Start voting")
    assert re.search(r"/auth/login\?next=", page.url)
    context.close()


@pytest.mark.parametrize("viewport,suffix", [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_accessibility_and_screenshots(browser, live_server, viewport, suffix) -> None:
    context = browser.new_context(locale="en-US", viewport=viewport, bypass_csp=True)
    page = context.new_page()
    register(page, live_server, "/")
    pages = {
        "home": "/",
        "round": f"/rounds/{live_server.slug}",
        "vote": f"/rounds/{live_server.slug}/vote",
        "propose": f"/rounds/{live_server.slug}/propose",
        "results": f"/rounds/{live_server.results_slug}/results",
        "my-data": "/account/data",
    }
    problems = {}
    for name, path in pages.items():
        page.goto(live_server.url + path)
        screenshot(page, f"{name}-{suffix}")
        if (suffix == "desktop" or name in ("vote", "results", "my-data")) and (
                found := page_problems(page, viewport["width"])):
            problems[name] = found
    assert not problems, problems
    context.close()
