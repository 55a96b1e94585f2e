"""The administrator's town settings page in a real browser: axe-clean in Japanese at
phone and desktop size, and a change (name and a PNG logo) shown in the header; an SVG
logo refused with the error next to the field."""

from __future__ import annotations

import pytest

from tests.e2e.browsing import DESKTOP, PHONE, axe, login_staff, screenshot
from tests.test_town import PNG, SVG

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(("viewport", "suffix"), [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_town_settings_page_is_accessible(browser, live_server, viewport, suffix) -> None:
    context = browser.new_context(locale="ja-JP", viewport=viewport, bypass_csp=True)
    page = context.new_page()
    login_staff(page, live_server, "admin")
    for path in ("/admin/town", "/terms"):
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == 200
        screenshot(page, f"{path.strip('/').replace('/', '-')}-{suffix}")
        assert not axe(page), (path, axe(page))
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], (path, width)
    context.close()


def test_admin_names_the_town_and_uploads_a_logo(browser, live_server, tmp_path) -> None:
    context = browser.new_context(locale="ja-JP", viewport=PHONE, bypass_csp=True)
    page = context.new_page()
    login_staff(page, live_server, "admin")
    svg = tmp_path / "logo.svg"
    svg.write_bytes(SVG)
    page.goto(f"{live_server.url}/admin/town")
    page.fill("input[name=name]", "みなみ町")
    page.set_input_files("input[name=logo]", str(svg))
    with page.expect_navigation():
        page.click("form.stack button[type=submit]")
    assert page.locator("#logo-error").inner_text().startswith("ロゴはPNG")
    assert "みなみ町" not in page.locator(".brand").inner_text()  # nothing was stored
    assert not axe(page)  # the page with its errors
    png = tmp_path / "logo.png"
    png.write_bytes(PNG)
    page.fill("input[name=name]", "みなみ町")
    page.set_input_files("input[name=logo]", str(png))
    with page.expect_navigation():
        page.click("form.stack button[type=submit]")
    assert "設定を保存しました" in page.locator(".flashes").inner_text()
    assert "みなみ町" in page.locator(".brand").inner_text()
    assert page.locator(".brand img.town-logo").evaluate("img => img.naturalWidth") == 1
    assert "みなみ町" in page.title()
    # Back to the defaults, so that other e2e tests see the usual header.
    page.fill("input[name=name]", "")
    page.check("input[name=remove_logo]")
    with page.expect_navigation():
        page.click("form.stack button[type=submit]")
    assert "みなみ町" not in page.locator(".brand").inner_text()
    context.close()
