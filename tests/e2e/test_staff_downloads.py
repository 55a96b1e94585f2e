"""The facilitators' CSV downloads from their pages, at 390 x 844 and desktop, with and
without JavaScript: the files open in Japanese (English through the link beside them), and
the pages stay axe-clean and as wide as the screen."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.e2e.conftest import screenshot
from tests.e2e.test_journeys import DESKTOP, PHONE, _axe
from tests.e2e.test_staff_and_public_pages import _login

pytestmark = pytest.mark.e2e


def _download(page, link) -> list[list[str]]:
    with page.expect_download() as download:
        link.click()
    raw = Path(download.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # for Excel
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("viewport,suffix,js", [(DESKTOP, "desktop", True),
                                                (DESKTOP, "desktop-nojs", False),
                                                (PHONE, "phone", True),
                                                (PHONE, "phone-nojs", False)])
def test_audit_and_dashboard_downloads(browser, live_server, viewport, suffix, js) -> None:
    context = browser.new_context(locale="ja-JP", viewport=viewport, bypass_csp=True,
                                  java_script_enabled=js, accept_downloads=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        _login(page, live_server, "facilitator")
        results = live_server.results_slug
        audit = ({"記録番号"}, {"Entry number"})
        dashboard = ({"日付（日本時間）", "週の初日・月曜日（日本時間）", "月（日本時間）"},
                     {"Day (Japan time)", "Week from Monday (Japan time)", "Month (Japan time)"})
        pages = {"audit": ("/facilitate/audit", audit),
                 "round-audit": (f"/facilitate/rounds/{results}/audit", audit),
                 "round-dashboard": (f"/facilitate/rounds/{results}/dashboard", dashboard)}
        problems = {}
        for name, (path, (japanese, in_english)) in pages.items():
            page.goto(live_server.url + path)
            main = page.locator("main")
            rows = _download(page, main.get_by_role("link", name="CSV"))
            assert rows[0][0] in japanese, rows[0]
            english = _download(page, main.get_by_role("link", name="English", exact=True))
            assert english[0][0] in in_english, english[0]
            if js:
                assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
                violations = _axe(page)
                if violations:
                    problems[name] = violations
            screenshot(page, f"staff-download-{name}-{suffix}")
        assert not problems, problems
    finally:
        context.close()
