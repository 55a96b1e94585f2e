"""Resident verification in the browser: counter verification by council staff, and a
postal code generated as CSV and entered by the resident; axe-core on every page, desktop
and phone, in Japanese."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

import pytest

from tests.e2e.browsing import DESKTOP, PHONE, axe, login_staff, screenshot, sign_in_new

pytestmark = pytest.mark.e2e


def _resident(browser, server):
    context = browser.new_context(locale="ja-JP", viewport=PHONE, bypass_csp=True)
    page = context.new_page()
    email = sign_in_new(page, server)
    return context, page, email


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_counter_verification(browser, live_server, viewport) -> None:
    resident, resident_page, email = _resident(browser, live_server)
    staff = browser.new_context(locale="ja-JP", viewport=viewport, bypass_csp=True)
    page = staff.new_page()
    login_staff(page, live_server, "council")
    page.goto(f"{live_server.url}/verify/?q={email}")
    assert not axe(page), axe(page)
    with page.expect_navigation():
        page.click("table.data-table a")
    assert "未確認" in page.inner_text("#level")
    assert not axe(page), axe(page)
    page.select_option("select[name=document]", "driving_licence")
    page.get_by_label("書類の番号").fill(f"{random.randrange(10**12):012d}")
    with page.expect_navigation():
        page.click("form button.primary")
    assert "確認済みの住民" in page.inner_text("#level")
    screenshot(page, f"verify-counter-{viewport['width']}")
    resident_page.goto(f"{live_server.url}/account/verification")
    assert "確認済みの住民" in resident_page.inner_text("#level")
    assert not axe(resident_page), axe(resident_page)
    staff.close()
    resident.close()


def test_postal_code(browser, live_server) -> None:
    staff = browser.new_context(locale="ja-JP", viewport=DESKTOP, bypass_csp=True,
                                accept_downloads=True)
    page = staff.new_page()
    login_staff(page, live_server, "council")
    page.goto(f"{live_server.url}/verify/postal-codes")
    assert not axe(page), axe(page)
    batch = f"e2e letter {random.randrange(10**6)}"
    page.fill("input[name=batch]", batch)
    page.fill("input[name=count]", "3")
    with page.expect_download() as download:
        page.click("form button.primary")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    code = next(iter(csv.DictReader(io.StringIO(text))))["確認コード"]
    # another member of staff confirms that the three letters were posted
    colleague = browser.new_context(locale="ja-JP", viewport=DESKTOP, bypass_csp=True)
    other = colleague.new_page()
    login_staff(other, live_server, "admin")
    other.goto(f"{live_server.url}/verify/postal-codes")
    other.select_option("select[name=batch]", batch)
    other.fill("input[name=letters]", "3")
    with other.expect_navigation():
        other.get_by_role("button", name="郵送を確認する").click()
    assert not axe(other), axe(other)
    assert batch in other.inner_text(".flash, [role=status], main")
    colleague.close()

    resident, resident_page, _email = _resident(browser, live_server)
    resident_page.goto(f"{live_server.url}/account/verification")
    assert not axe(resident_page), axe(resident_page)
    resident_page.fill("input[name=code]", "WRONG-CODE-0000")
    with resident_page.expect_navigation():
        resident_page.click("form button.primary")
    assert "未確認" in resident_page.inner_text("#level")
    assert not axe(resident_page), axe(resident_page)  # the error state too
    resident_page.fill("input[name=code]", code.lower())
    with resident_page.expect_navigation():
        resident_page.click("form button.primary")
    assert "確認済みの住民" in resident_page.inner_text("#level")
    screenshot(resident_page, "verify-postal-code-phone")
    staff.close()
    resident.close()
