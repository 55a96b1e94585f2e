"""The facilitators' CSV downloads from their pages, at 390 x 844 and desktop, with and
without JavaScript: the files open in Japanese (English through the link beside them), and
the pages stay axe-clean and as wide as the screen."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.e2e.browsing import DESKTOP, PHONE, login_staff, page_problems, screenshot

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
        login_staff(page, live_server, "facilitator")
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
            rows = _download(page, main.get_by_role("link", name="CSVをダウンロード"))
            assert rows[0][0] in japanese, rows[0]
            english = _download(page, main.get_by_role("link", name="英語版のCSV"))
            assert english[0][0] in in_english, english[0]
            if js and (found := page_problems(page, viewport["width"])):
                problems[name] = found
            screenshot(page, f"staff-download-{name}-{suffix}")
        assert not problems, problems
    finally:
        context.close()


@pytest.mark.parametrize("viewport,suffix,js", [(DESKTOP, "desktop", True),
                                                (DESKTOP, "desktop-nojs", False),
                                                (PHONE, "phone", True),
                                                (PHONE, "phone-nojs", False)])
def test_council_downloads_follow_the_round_filter(browser, live_server, viewport, suffix,
                                                   js) -> None:
    """The council's list shares the download row: a button for the CSV, the English file
    beside it, the JSON and, for one round, the dossier; after filtering by round (htmx with
    JavaScript, the Apply button without) the files are that round's."""
    context = browser.new_context(locale="ja-JP", viewport=viewport, bypass_csp=True,
                                  java_script_enabled=js, accept_downloads=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        login_staff(page, live_server, "council")
        page.goto(live_server.url + "/agenda/council/")
        row = page.locator("main .download-links")
        assert row.count() == 1
        everything = _download(page, row.get_by_role("link", name="CSVをダウンロード"))
        assert everything[0][0] == "議題番号", everything[0]
        english = _download(page, row.get_by_role("link", name="英語版のCSV"))
        assert english[0][0] != everything[0][0]
        for link in row.get_by_role("link").all():  # full-size tap targets
            assert link.bounding_box()["height"] >= 44
        page.select_option("#f-round", live_server.results_slug)
        if not js:
            page.get_by_role("button", name="適用").click()
        dossier = row.get_by_role("link", name="このラウンドの印刷用資料")
        dossier.wait_for()
        href = row.get_by_role("link", name="CSVをダウンロード").get_attribute("href")
        assert f"round={live_server.results_slug}" in href
        one_round = _download(page, row.get_by_role("link", name="CSVをダウンロード"))
        column = one_round[0].index("ラウンド")
        assert {r[column] for r in one_round[1:]} == {"結果を見るためのデモラウンド"}
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        if js:
            problems = page_problems(page)
            assert not problems, problems
        screenshot(page, f"council-downloads-{suffix}")
    finally:
        context.close()
