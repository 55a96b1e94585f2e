"""The agenda item's votes by relation to the town, on the public and council pages and
the dossier, at 390 x 844 and desktop, with and without JavaScript; axe-clean."""

from __future__ import annotations

import pytest

from tests.e2e.browsing import DESKTOP, PHONE, login_staff, page_problems, screenshot

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("viewport,suffix,js", [(DESKTOP, "desktop", True),
                                                (DESKTOP, "desktop-nojs", False),
                                                (PHONE, "phone", True),
                                                (PHONE, "phone-nojs", False)])
def test_votes_by_relation_to_the_town(browser, live_server, viewport, suffix, js) -> None:
    context = browser.new_context(locale="ja-JP", viewport=viewport, bypass_csp=True,
                                  java_script_enabled=js)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        item = live_server.escalation_id
        pages = {"item": f"/agenda/items/{item}"}
        login_staff(page, live_server, "council")
        pages |= {"council-item": f"/agenda/council/items/{item}",
                  "dossier": f"/agenda/council/items/{item}/dossier"}
        problems = {}
        for name, path in pages.items():
            page.goto(live_server.url + path)
            heading = page.get_by_role("heading", name="まちとの関わり別の投票")
            assert heading.is_visible(), name
            table = page.get_by_role("table", name="この提案への投票（まちとの関わり別、議題になった時点）")
            assert table.locator("tbody tr").count() >= 1, name
            if js and (found := page_problems(page, viewport["width"])):
                problems[name] = found
            screenshot(page, f"votes-by-kind-{name}-{suffix}")
        assert not problems, problems
    finally:
        context.close()
