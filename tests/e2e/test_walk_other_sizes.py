"""The walk of test_phone_walk.py in the other combinations: staff and account pages at
1280 x 800 in Japanese without JavaScript, and at 390 x 844 in English with it. No page is
wider than the screen, none answers other than 200, none shows a stored code (an audit
action such as ``proposal.reject``, an enum such as ``too_few_votes``), and the Japanese
ones show no English sentence."""

from __future__ import annotations

import re

import pytest

from tests.e2e.browsing import DESKTOP, PHONE, login_staff, pages_by_role, screenshot, sign_in_new
from tests.i18n.test_error_paths_japanese import english_in

pytestmark = pytest.mark.e2e

# snake_case or dotted lower-case words: how the code names actions, statuses and reasons
CODE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b|\b[a-z]+\.[a-z]+(?:_[a-z]+)*\b")
NOT_CODES = {"e.g"}  # "e.g." in English hints


@pytest.mark.slow
@pytest.mark.parametrize("locale,viewport,js", [("ja-JP", DESKTOP, False),
                                                ("en-US", PHONE, True)])
@pytest.mark.parametrize("role", ["citizen", "facilitator", "council", "admin"])
def test_staff_and_account_pages(browser, live_server, role, locale, viewport, js) -> None:
    context = browser.new_context(locale=locale, viewport=viewport, java_script_enabled=js)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        if role == "citizen":
            sign_in_new(page, live_server)
        else:
            login_staff(page, live_server, role)
        problems = {}
        for name, path in pages_by_role(live_server)[role].items():
            response = page.goto(live_server.url + path)
            found = {}
            if response is None or response.status != 200:
                found["status"] = response and response.status
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > viewport["width"]:
                found["width"] = width
            codes = set(CODE.findall(page.inner_text("main"))) - NOT_CODES
            codes = {c for c in codes if not c.endswith((".org", ".jp", ".com", ".csv"))}
            if codes:
                found["codes"] = sorted(codes)
            if locale == "ja-JP" and english_in(page.content()):
                found["english"] = english_in(page.content())[:3]
            if found:
                problems[name] = found
            screenshot(page, f"walk-{locale}-{viewport['width']}-{role}-{name}")
        assert not problems, problems
    finally:
        context.close()


@pytest.mark.parametrize("js", [True, False])
def test_refused_facilitator_actions_say_why(browser, live_server, js) -> None:
    """A refused moderation (a rejection without a reason) and a rule the preview cannot use (confidence
    7) answer in Japanese where the facilitator looks, with JavaScript (htmx swaps the 400
    fragment) and without (the page again); nothing is moderated."""
    slug = live_server.slug  # collecting proposals, published at once, reviewed after
    mine = "図書館の開館時間を夜まで延ばしてほしい" + ("。" if js else "です。")
    citizen = browser.new_context(locale="ja-JP", viewport=PHONE)
    try:
        page = citizen.new_page()
        sign_in_new(page, live_server)
        page.goto(f"{live_server.url}/rounds/{slug}/propose")
        page.fill("textarea[name=text]", mine)
        with page.expect_navigation():
            page.get_by_role("button", name="提案を送信").click()
    finally:
        citizen.close()
    context = browser.new_context(locale="ja-JP", viewport=PHONE, java_script_enabled=js)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        login_staff(page, live_server, "facilitator")
        page.goto(f"{live_server.url}/facilitate/rounds/{slug}/moderation")
        queue = page.locator("#moderation-queue")
        before = queue.locator("input[name=proposal_id]").count()
        assert before > 0
        queue.get_by_label(mine).check()
        queue.get_by_role("button", name="選択した提案を却下").click()  # without a reason
        alert = queue.get_by_role("alert")
        alert.wait_for()
        assert "提案を却下するには理由が必要です。" in alert.inner_text()
        assert queue.locator("input[name=proposal_id]").count() == before
        assert queue.get_by_label(mine).is_checked()
        page.goto(f"{live_server.url}/facilitate/rounds/{live_server.results_slug}/edit")
        page.fill("input[name=confidence]", "7")
        page.get_by_role("button", name="プレビュー").click()
        # with htmx in the preview, which names the setting; without, under the field
        where = "#policy-preview li" if js else ".field-error .error"
        error = page.locator(where).first
        error.wait_for()
        assert "統計的信頼度" in (error.inner_text() if js else
                               page.locator(".field-error").first.inner_text())
        assert not english_in(page.content())
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, f"refused-preview-{'js' if js else 'nojs'}")
    finally:
        context.close()
