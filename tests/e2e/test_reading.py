"""Easy Japanese and furigana in Chromium: the header button with and without JavaScript,
screen readers get each word once (the accessibility tree), the easy pages and the
accessibility statement are axe-clean at phone and desktop size."""

from __future__ import annotations

import pytest

from tests.e2e.browsing import DESKTOP, PHONE, page_problems, screenshot, sign_in_new

pytestmark = pytest.mark.e2e

SWITCH = ".reading-switch button"


def _toggle(page) -> None:
    with page.expect_navigation():
        page.locator(SWITCH).click()


def _chromium_tree(page) -> list[tuple[str, str]]:
    """(role, name) of every node in Chromium's own accessibility tree, what screen readers
    get (Playwright's aria snapshot computes names itself and spaces around ruby)."""
    session = page.context.new_cdp_session(page)
    nodes = session.send("Accessibility.getFullAXTree")["nodes"]
    session.detach()
    return [(n.get("role", {}).get("value", ""), n.get("name", {}).get("value", ""))
            for n in nodes if not n.get("ignored")]


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_the_header_button_switches_easy_japanese(browser, live_server, javascript) -> None:
    context = browser.new_context(locale="ja-JP", viewport=PHONE, java_script_enabled=javascript)
    page = context.new_page()
    page.goto(f"{live_server.url}/how-it-works")
    assert page.locator("ruby").count() == 0
    assert page.get_by_role("button", name="やさしい日本語").get_attribute("aria-pressed") == "false"
    _toggle(page)
    assert page.url.endswith("/how-it-works")  # back on the same page
    assert page.get_by_role("heading", level=1).inner_text().startswith("ひろば")
    assert page.locator("h1 ruby").count() >= 2  # ひろばの使(つか)い方(かた)
    assert page.locator(SWITCH).get_attribute("aria-pressed") == "true"
    page.goto(f"{live_server.url}/")  # kept in the session
    assert page.locator("h1").inner_text().replace("\n", "").startswith("みんなで")
    _toggle(page)
    assert page.locator("ruby").count() == 0
    context.close()


def test_screen_readers_get_each_word_once(browser, live_server) -> None:
    context = browser.new_context(locale="ja-JP", viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{live_server.url}/reading")
    page.get_by_label("ふつうの日本語にふりがなを付ける").check()
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()
    page.goto(f"{live_server.url}/how-it-works")
    assert page.locator("h1 rt").first.is_visible()  # the readings are shown...
    tree = _chromium_tree(page)
    # ...and Chromium's accessibility tree holds each word once, without its reading
    assert ("heading", "ひろばの仕組み") in tree, tree
    assert ("heading", "提案を書く") in tree
    assert ("button", "やさしい日本語") in tree  # ruby inside a button's name too
    readings = {"しく", "ていあん", "か", "にほんご"}
    assert not [(role, name) for role, name in tree if name in readings], tree
    assert not any("しく" in name or "ていあん" in name for _, name in tree)
    context.close()


@pytest.mark.parametrize("viewport,suffix", [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_easy_pages_are_accessible(browser, live_server, viewport, suffix) -> None:
    context = browser.new_context(locale="ja-JP", viewport=viewport, bypass_csp=True)  # axe
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in_new(page, live_server, "/")
    page.goto(f"{live_server.url}/")
    _toggle(page)
    pages = {
        "home": "/",
        "how-it-works": "/how-it-works",
        "vote": f"/rounds/{live_server.slug}/vote",
        "results": f"/rounds/{live_server.results_slug}/results",
        "agenda-item": f"/agenda/items/{live_server.escalation_id}",
        "reading": "/reading",
        "accessibility": "/accessibility",
    }
    problems = {}
    for name, path in pages.items():
        page.goto(live_server.url + path)
        assert page.locator("main ruby").count() > 0, name
        screenshot(page, f"easy-{name}-{suffix}")
        if found := page_problems(page, viewport["width"]):
            problems[name] = found
    assert not problems, problems
    context.close()


@pytest.mark.parametrize("locale", ["ja-JP", "en-US"])
@pytest.mark.parametrize("viewport,suffix", [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_statement_and_settings_pages_are_accessible(browser, live_server, locale, viewport,
                                                     suffix) -> None:
    context = browser.new_context(locale=locale, viewport=viewport, bypass_csp=True)
    page = context.new_page()
    problems = {}
    for path in ("/accessibility", "/reading", "/how-it-works"):
        page.goto(live_server.url + path)
        screenshot(page, f"{path.strip('/')}-{locale}-{suffix}")
        if found := page_problems(page, viewport["width"]):
            problems[path] = found
    assert not problems, problems
    context.close()
