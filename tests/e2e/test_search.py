"""The proposals list's search form, with and without JavaScript, at phone and desktop size."""

from __future__ import annotations

import pytest

from tests.e2e.browsing import DESKTOP, PHONE, axe

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_search_sort_and_page_the_proposals(browser, live_server, viewport, javascript) -> None:
    context = browser.new_context(locale="ja-JP", viewport=viewport, java_script_enabled=javascript,
                                  bypass_csp=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/rounds/{live_server.slug}/proposals")
    first = page.locator(".proposal-item p a").first.inner_text()
    middle = first[2:8]
    page.get_by_label("提案を検索").fill(middle)
    page.get_by_label("並べ替え").select_option(label="投票の多い順")
    if javascript:
        page.get_by_role("button", name="検索").click()
        page.wait_for_url(lambda url: "q=" in url)
        page.wait_for_function("t => document.querySelector('#proposal-results').innerText.includes(t)",
                               arg=first)
    else:
        with page.expect_navigation():
            page.get_by_role("button", name="検索").click()
    texts = page.locator(".proposal-item p a").all_inner_texts()
    assert first in texts and all(middle.lower() in t.lower() for t in texts)
    assert page.get_by_label("並べ替え").input_value() == "votes"
    # nothing found says so, in Japanese
    page.get_by_label("提案を検索").fill("該当しない言葉")
    if javascript:
        page.get_by_role("button", name="検索").click()
        page.wait_for_function("() => document.querySelector('#proposal-results')"
                               ".innerText.includes('一致する提案はありません')")
    else:
        with page.expect_navigation():
            page.get_by_role("button", name="検索").click()
        assert "一致する提案はありません" in page.content()
    if javascript:
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        assert axe(page) == []
    assert errors == []
    context.close()


def test_a_screen_reader_hears_how_many_results_a_search_or_filter_found(
        browser, live_server) -> None:
    """Results swapped in whole are new to the page, and a live region that comes with them
    is not read out: the count is read from the page's own status region, there before."""
    context = browser.new_context(locale="ja-JP", viewport=PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/rounds/{live_server.slug}/proposals")
    status = page.locator("#results-status")
    assert status.get_attribute("role") == "status" and status.inner_text() == ""
    page.get_by_label("提案を検索").fill("該当しない言葉")
    page.get_by_role("button", name="検索").click()
    page.wait_for_function("() => document.querySelector('#results-status').textContent"
                           " === '提案 0件'")
    # not read twice (or instead) by a live region of the results' own
    assert page.locator("#proposal-results [aria-live], #proposal-results[aria-live]").count() == 0
    page.goto(f"{live_server.url}/agenda/")
    page.get_by_label("状況").select_option(label="受付済み")
    page.wait_for_function("() => document.querySelector('#results-status').textContent"
                           " === '議題になった提案：1件'")
    context.close()


def test_back_after_a_search_shows_the_whole_page_again(browser, live_server) -> None:
    """A search with JavaScript puts its address in the history; Back had htmx fetch the
    earlier one as an htmx request, and the answer (the results alone) took the place of
    the whole page: no header, no navigation, no search form."""
    context = browser.new_context(locale="ja-JP", viewport=PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/rounds/{live_server.slug}/proposals")
    for words in ("図書館", "駅前"):
        page.get_by_label("提案を検索").fill(words)
        page.get_by_role("button", name="検索").click()
        page.wait_for_function("w => decodeURIComponent(location.search).includes(w)",
                               arg=words)
    page.go_back()
    # the address changes first; the earlier page replaces this one when its fetch is back
    page.wait_for_function("() => document.querySelector('#p-q')?.value === '図書館'")
    assert page.locator("header.site-header").count() == 1
    assert page.get_by_label("提案を検索").input_value() == "図書館"
    context.close()
