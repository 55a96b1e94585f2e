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
