"""Phone first, in Japanese: at 390 x 844 the vote buttons are in the first screen whatever
the proposal's length, no page is wider than the screen, and axe finds nothing serious."""

from __future__ import annotations

import pytest

from tests.e2e.browsing import PHONE, page_problems, screenshot, sign_in_new

pytestmark = pytest.mark.e2e


def test_phone_pages_fit_the_screen_in_japanese(browser, live_server) -> None:
    context = browser.new_context(locale="ja-JP", viewport=PHONE, bypass_csp=True)  # axe
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in_new(page, live_server, next_path=f"/rounds/{live_server.slug}/vote")
        page.goto(f"{live_server.url}/rounds/{live_server.slug}/vote")
        assert page.locator("html").get_attribute("lang") == "ja"
        # the vote buttons sit in the first screen
        for name in ("賛成", "反対"):
            box = page.get_by_role("button", name=name, exact=True).bounding_box()
            assert box is not None and box["y"] + box["height"] <= PHONE["height"], (name, box)
        screenshot(page, "ja-phone-vote")
        pages = {
            "vote": f"/rounds/{live_server.slug}/vote",
            "round": f"/rounds/{live_server.slug}",
            "proposals": f"/rounds/{live_server.slug}/proposals",
            "results": f"/rounds/{live_server.results_slug}/results",
            "agenda": "/agenda/",
            "item": f"/agenda/items/{live_server.escalation_id}",
        }
        for name, path in pages.items():
            page.goto(live_server.url + path)
            problems = page_problems(page, PHONE["width"])
            assert not problems, (name, problems)
            screenshot(page, f"ja-phone-{name}")
    finally:
        context.close()


def test_large_text_still_fits_a_phone(browser, live_server) -> None:
    """Older readers set a large text size: at twice the default on a 390 px phone, no page
    is wider than the screen (buttons with long labels wrap instead of sticking out)."""
    context = browser.new_context(locale="ja-JP", viewport=PHONE, bypass_csp=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in_new(page, live_server)
        wide = {}
        for path in ("/", f"/rounds/{live_server.slug}", f"/rounds/{live_server.slug}/proposals",
                     f"/rounds/{live_server.long_slug}/vote",
                     f"/rounds/{live_server.results_slug}/results",
                     f"/agenda/items/{live_server.escalation_id}", "/account/"):
            page.goto(live_server.url + path)
            page.add_style_tag(content="html { font-size: 200% !important; }")
            # a round named by its facilitator with a long Latin word (a Pol.is import's
            # "UberX — vTaiwan.tw") puts it in the label of its vote button
            page.evaluate("""() => document.querySelectorAll('main a.button').forEach(
                a => { a.textContent = '「ShiosaiTownComprehensive2027」' + a.textContent; })""")
            # a link pasted into a description, "(Ex.Audi.BMW.Benz.....etc.)" in an imported
            # proposal: a long word in running text and in a choice's label
            page.evaluate("""() => document.querySelectorAll('main p, main .radio').forEach(
                e => e.append(' https://pol.is/report/r3phdex2kjf(Ex.Audi.BMW.Benz.....etc.)'))""")
            # ... and in a proposal that is a link of its own (the lists of proposals, the
            # agenda, a round's card): vtaiwan.uberx's comment 167 is a 192-character link
            page.evaluate("""() => document.querySelectorAll(
                'main .link-row a, main :is(h2, h3) > a:only-child, main .link-list a').forEach(
                a => a.append(' https://hk.news.yahoo.com/%E8%AD%A6%E6%89%AE%E5%AE%A2%E7%A0%B4uber'))""")
            width = page.evaluate("document.scrollingElement.scrollWidth")
            if width > PHONE["width"]:
                wide[path] = width
        # the header with a town's name (admin settings): the name wraps onto its own line
        # instead of squeezing 「広場」 into one character per line
        page.evaluate("""() => document.querySelector('.brand').insertAdjacentHTML(
            'afterbegin', '<span class="town-name">しおさい町（デモ）</span>')""")
        lines = page.evaluate("""() => { const s = document.querySelector('.brand [lang=ja]');
            return s.getBoundingClientRect().height / parseFloat(getComputedStyle(s).fontSize); }""")
        assert lines < 2, lines  # one line is 1.7 font sizes high
        assert not wide
    finally:
        context.close()


def test_every_round_tab_and_legend_entry_is_on_a_phone_screen(browser, live_server) -> None:
    """The round's tabs wrap instead of running off the right edge (「結果」 was out of
    sight with nothing to say it was there), and the results legend wraps a long word
    (a group named after a proposal with a pasted link), at the default and at twice the
    text size."""
    context = browser.new_context(locale="ja-JP", viewport=PHONE, bypass_csp=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    long_word = " https://pol.is/report/r3phdex2kjf(Ex.Audi.BMW.Benz.....etc.)"
    try:
        for size in ("100%", "200%"):
            page.goto(f"{live_server.url}/rounds/{live_server.results_slug}/results")
            page.add_style_tag(content=f"html {{ font-size: {size} !important; }}")
            tabs = page.evaluate("""() => [...document.querySelectorAll('.round-nav a')].map(
                a => [a.textContent.trim(), a.getBoundingClientRect().right])""")
            assert len(tabs) == 6 and all(right <= PHONE["width"] for _, right in tabs), (
                size, tabs)
            assert page.locator(".legend-groups li").count() > 0
            page.evaluate("""(word) => document.querySelectorAll('.legend li, .round-nav a')
                .forEach(e => e.append(word))""", long_word)
            wide = page.evaluate("""() => [...document.querySelectorAll('.legend li, .round-nav a')]
                .filter(e => e.getBoundingClientRect().right > innerWidth)
                .map(e => e.textContent.trim().slice(0, 30))""")
            assert not wide, (size, wide)
            assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    finally:
        context.close()


def test_every_disclosure_on_an_agenda_item_shows_its_marker(browser, live_server) -> None:
    """「くわしく」 and the other disclosures of an agenda item show the triangle that says
    they open: a flex summary lost it and read as a bold link that led nowhere."""
    context = browser.new_context(locale="ja-JP", viewport=PHONE)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/agenda/items/{live_server.escalation_id}")
        displays = page.evaluate("""() => [...document.querySelectorAll('main summary')].map(
            s => [s.textContent.trim(), getComputedStyle(s).display])""")
        assert displays and all(d == "list-item" for _, d in displays), displays
    finally:
        context.close()


def test_a_long_status_badge_wraps_on_a_phone_at_large_text(browser, live_server) -> None:
    """Outside a table (which scrolls) a status badge wraps: "Support has since fallen" at
    twice the text size is wider than a 390 px screen."""
    context = browser.new_context(locale="en-US", viewport=PHONE, bypass_csp=True)
    page = context.new_page()
    try:
        for path in ("/agenda/", f"/agenda/items/{live_server.escalation_id}"):
            page.goto(live_server.url + path)
            page.add_style_tag(content="html { font-size: 200% !important; }")
            assert page.locator("main .badge").count() > 0, path
            page.evaluate("""() => document.querySelectorAll('main .badge').forEach(
                b => { b.textContent = 'Answered: Partly adopted · Support has since fallen'; })""")
            assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"], path
    finally:
        context.close()


def test_the_pass_button_breaks_between_words(browser, live_server) -> None:
    """On a phone the pass button's label reads パス／ over わからない, a whole word on
    each line, not パス／わ over からない."""
    context = browser.new_context(locale="ja-JP", viewport=PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in_new(page, live_server, next_path=f"/rounds/{live_server.slug}/vote")
        page.goto(f"{live_server.url}/rounds/{live_server.slug}/vote")
        lines = page.evaluate("""() => {
            const button = document.querySelector('#vote-card .vote-buttons .vote-pass');
            const text = button.firstChild.nodeType === 3 ? button.firstChild
                : document.createTreeWalker(button, NodeFilter.SHOW_TEXT).nextNode();
            const at = text.data.indexOf('わからない');
            const r = document.createRange(); r.setStart(text, at); r.setEnd(text, at + 5);
            return [text.data.trim(), new Set([...r.getClientRects()].map(x => Math.round(x.top))).size]; }""")
        assert lines[1] == 1, lines
    finally:
        context.close()
