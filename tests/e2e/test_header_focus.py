"""The header's controls take the keyboard's focus in the order they are seen: on a phone
the language and reading buttons sit beside the name, above the menu, and are reached
before it (WCAG 2.4.3)."""

from __future__ import annotations

import pytest

from tests.e2e.browsing import DESKTOP, PHONE

pytestmark = pytest.mark.e2e

_FOCUSED = """() => { const r = document.activeElement.getBoundingClientRect();
  return [Math.round(r.top), Math.round(r.left), document.activeElement.closest('header') !== null]; }"""


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_header_is_focused_in_reading_order(browser, live_server, viewport) -> None:
    context = browser.new_context(locale="ja-JP", viewport=viewport)
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    page.keyboard.press("Tab")  # the skip link, before the header
    positions = []
    while True:
        page.keyboard.press("Tab")
        top, left, in_header = page.evaluate(_FOCUSED)
        if not in_header:
            break
        positions.append((top, left))
    context.close()
    assert len(positions) >= 6  # the name, the two buttons and the menu's links
    # row by row (a control more than half a line lower starts a new row), left to right
    rows = [positions[0]]
    for top, left in positions[1:]:
        previous_top, previous_left = rows[-1]
        assert top > previous_top + 20 or (abs(top - previous_top) <= 20 and left > previous_left), \
            positions
        rows.append((top, left))
