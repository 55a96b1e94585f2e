"""A walk of every page at 390 x 844: in Japanese no page is wider than the screen, none
shows an English sentence, axe finds nothing serious or critical; the vote buttons of the
longest proposal are in the first screen (Japanese and English); an empty round offers no
vote; the facilitator's page of a round and its public page link to each other."""

from __future__ import annotations

import re

import pytest

from tests.e2e.browsing import (
    PHONE,
    login_staff,
    page_problems,
    pages_by_role,
    screenshot,
    sign_in_new,
)
from tests.i18n.test_error_paths_japanese import english_in

pytestmark = pytest.mark.e2e


def _phone(browser, locale: str):
    context = browser.new_context(locale=locale, viewport=PHONE, bypass_csp=True)  # axe
    context.set_default_timeout(10_000)
    return context


def _vote_buttons_in_first_screen(page, names: tuple[str, ...]) -> None:
    for name in names:
        box = page.locator("#vote-card").get_by_role("button", name=name, exact=True).bounding_box()
        assert box is not None and box["y"] + box["height"] <= PHONE["height"], (name, box)


@pytest.mark.slow
@pytest.mark.parametrize("role", ["anonymous", "citizen", "facilitator", "council", "admin"])
def test_every_page_on_a_phone_in_japanese(browser, live_server, role: str) -> None:
    context = _phone(browser, "ja-JP")
    page = context.new_page()
    try:
        if role == "citizen":
            sign_in_new(page, live_server)
        elif role != "anonymous":
            login_staff(page, live_server, role)
        problems = {}
        for name, path in pages_by_role(live_server)[role].items():
            response = page.goto(live_server.url + path)
            assert response is not None and response.status == 200, (path, response and response.status)
            assert page.locator("html").get_attribute("lang") == "ja"
            found = page_problems(page, PHONE["width"])
            english = english_in(page.content())
            if english:
                found["english"] = english[:5]
            if found:
                problems[name] = found
            screenshot(page, f"ja-phone-{role}-{name}")
        assert not problems, problems
        if role == "citizen":
            page.goto(f"{live_server.url}/rounds/{live_server.long_slug}/vote")
            assert len(page.locator("#vote-card .proposal-text").inner_text().strip()) >= 250
            _vote_buttons_in_first_screen(page, ("賛成", "反対"))
    finally:
        context.close()


def test_english_on_a_phone(browser, live_server) -> None:
    context = _phone(browser, "en-US")
    page = context.new_page()
    try:
        sign_in_new(page, live_server)
        page.goto(f"{live_server.url}/rounds/{live_server.long_slug}/vote")
        assert page.locator("html").get_attribute("lang") == "en"
        _vote_buttons_in_first_screen(page, ("Agree", "Disagree", "Pass / unsure"))
        # a one-word label stays whole on its button (it broke as "Disagre / e")
        lines = page.evaluate("""() => [...document.querySelectorAll('#vote-card .vote-buttons .button')]
            .map(b => { const r = document.createRange(); r.selectNodeContents(b);
                        return [b.textContent.trim(),
                                new Set([...r.getClientRects()].map(x => Math.round(x.top))).size]; })""")
        assert [n for label, n in lines if " " not in label] == [1, 1], lines
        screenshot(page, "en-phone-long-vote")
        pages = {"vote": f"/rounds/{live_server.long_slug}/vote",
                 "round": f"/rounds/{live_server.results_slug}",
                 "results": f"/rounds/{live_server.results_slug}/results",
                 "agenda": "/agenda/", "item": f"/agenda/items/{live_server.escalation_id}",
                 "empty-round": f"/rounds/{live_server.empty_slug}", "my-data": "/account/data"}
        problems = {}
        for name, path in pages.items():
            page.goto(live_server.url + path)
            if found := page_problems(page, PHONE["width"]):
                problems[name] = found
            screenshot(page, f"en-phone-{name}")
        assert not problems, problems
        page.goto(f"{live_server.url}/rounds/{live_server.empty_slug}")
        assert page.get_by_text("There are no proposals to vote on yet").is_visible()
        assert page.get_by_role("link", name="Start voting").count() == 0
    finally:
        context.close()


# What lies at a point: the question and the proposal's first line must be themselves, not
# the vote buttons stuck over them.
_UNDER = """([sel, dy]) => { const r = document.querySelector(sel).getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + 12, r.top + dy);
  return hit !== null && hit.closest(sel) !== null; }"""


def test_a_short_screen_shows_what_the_vote_is_on(browser, live_server) -> None:
    """A phone held sideways and a desktop page zoomed to 200 %: the buttons stuck to the
    bottom of the screen covered the question and the proposal, so the first screen
    offered 賛成 and 反対 on nothing to read."""
    context = browser.new_context(locale="ja-JP", viewport={"width": 844, "height": 390})
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in_new(page, live_server)
        for size in ({"width": 844, "height": 390}, {"width": 640, "height": 400}):
            page.set_viewport_size(size)
            page.goto(f"{live_server.url}/rounds/{live_server.slug}/vote")
            shown = {sel: page.evaluate(_UNDER, [sel, 12])
                     for sel in ("#vote-card-heading", "#vote-card .proposal-text")}
            assert all(shown.values()), (size, shown)
            screenshot(page, f"short-screen-vote-{size['width']}x{size['height']}")
    finally:
        context.close()


def test_an_empty_round_offers_no_vote(browser, live_server) -> None:
    context = _phone(browser, "ja-JP")
    page = context.new_page()
    try:
        sign_in_new(page, live_server)
        page.goto(f"{live_server.url}/rounds/{live_server.empty_slug}")
        assert page.get_by_text("まだ投票できる提案がありません").is_visible()
        assert page.get_by_role("link", name="投票を始める").count() == 0
        page.goto(f"{live_server.url}/rounds/{live_server.empty_slug}/vote")
        card = page.locator("#vote-card")
        assert card.get_by_role("heading", name="まだ投票できる提案がありません").is_visible()
        assert card.get_by_role("button").count() == 0
    finally:
        context.close()


def test_facilitator_and_public_round_pages_link_to_each_other(browser, live_server) -> None:
    context = _phone(browser, "ja-JP")
    page = context.new_page()
    try:
        login_staff(page, live_server, "facilitator")
        slug = live_server.results_slug
        page.goto(f"{live_server.url}/facilitate/rounds/{slug}")
        with page.expect_navigation():
            page.get_by_role("link", name="このラウンドの公開ページを見る").click()
        assert page.url == f"{live_server.url}/rounds/{slug}"
        with page.expect_navigation():
            page.get_by_role("link", name="このラウンドを運営する（ファシリテーター用）").click()
        assert page.url == f"{live_server.url}/facilitate/rounds/{slug}"
    finally:
        context.close()


TAP_TARGETS = """() => [...document.querySelectorAll(
    'main button, main select, main summary, main input[type=file], main a.button')]
  .filter(e => e.getBoundingClientRect().width > 0 && !e.closest('.visually-hidden'))
  .filter(e => e.getBoundingClientRect().height < 44)
  .map(e => e.tagName + ' ' + (e.innerText || e.name || '').trim().slice(0, 30)
            + ' ' + Math.round(e.getBoundingClientRect().height))"""


def test_tables_keep_their_headers_and_controls_are_large_enough(browser, live_server) -> None:
    context = _phone(browser, "ja-JP")
    page = context.new_page()
    try:
        login_staff(page, live_server, "council")
        pages = {"results": f"/rounds/{live_server.results_slug}/results",
                 "council": "/agenda/council/", "verify": "/verify/postal-codes"}
        small = {}
        for name, path in pages.items():
            page.goto(live_server.url + path)
            positions = page.evaluate(
                "() => [...document.querySelectorAll('.table-scroll thead th')]"
                ".map(th => getComputedStyle(th).position)")
            assert set(positions) == {"sticky"} or (name == "verify" and not positions), \
                (name, positions)
            too_small = page.evaluate(TAP_TARGETS)
            if too_small:
                small[name] = too_small
        assert not small, small
        # A column header stays at the top of its container while the table scrolls
        # (the container made short here, so that any table scrolls).
        page.goto(f"{live_server.url}/rounds/{live_server.results_slug}/results")
        offset = page.evaluate("""() => {
            const box = document.querySelector('.table-scroll');
            box.style.maxHeight = '8rem';
            box.scrollTop = box.scrollHeight;
            if (box.scrollTop < 20) return 'no scroll';
            const th = box.querySelector('thead th');
            return th.getBoundingClientRect().top - box.getBoundingClientRect().top;
        }""")
        assert offset != "no scroll" and abs(offset) <= 2, offset
    finally:
        context.close()


def test_every_record_on_the_data_page_fits_a_phone(browser, live_server) -> None:
    """The facilitator's data page (rounds, proposals, audit entries...) with every table of
    the "every record" part opened: no wider than the screen, nothing axe finds serious."""
    context = _phone(browser, "ja-JP")
    page = context.new_page()
    try:
        login_staff(page, live_server, "facilitator")
        page.goto(live_server.url + "/account/data")
        page.evaluate("() => document.querySelectorAll('#records-h ~ details')"
                      ".forEach(d => { d.open = true; })")
        assert page.locator("#records-h ~ details[open]").count() >= 3
        problems = page_problems(page, PHONE["width"])
        screenshot(page, "ja-phone-my-data-every-record")
        assert not problems, problems
        cells = set(page.locator("section[aria-labelledby='records-h'] td").all_inner_texts())
        assert not cells & {"voting", "published", "facilitator", "true", "false"}
        assert not [c for c in cells if re.search(r"\dT\d\d:", c)]
    finally:
        context.close()
