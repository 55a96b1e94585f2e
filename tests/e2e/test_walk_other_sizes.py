"""The walk of test_phone_walk.py in the other combinations: staff and account pages at
1280 x 800 in Japanese without JavaScript, and at 390 x 844 in English with it. No page is
wider than the screen, none answers other than 200, none shows a stored code (an audit
action such as ``proposal.reject``, an enum such as ``too_few_votes``), and the Japanese
ones show no English sentence."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import register, screenshot
from tests.e2e.test_journeys import DESKTOP, PHONE
from tests.e2e.test_phone_walk import _pages
from tests.e2e.test_staff_and_public_pages import _login
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
            register(page, live_server)
        else:
            _login(page, live_server, role)
        problems = {}
        for name, path in _pages(live_server)[role].items():
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
