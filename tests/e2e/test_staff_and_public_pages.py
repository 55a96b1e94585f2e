"""axe-core on the public agenda, account pages and the staff pages (facilitation, council),
with screenshots; plus a council answer through the real form, seen on the public page."""

from __future__ import annotations

import pytest

from tests.e2e.browsing import DESKTOP, PHONE, login_staff, page_problems, screenshot

pytestmark = pytest.mark.e2e


def _check(page, server, pages: dict[str, str]) -> dict:
    problems = {}
    for name, path in pages.items():
        response = page.goto(server.url + path)
        assert response is not None and response.status == 200, (path, response and response.status)
        screenshot(page, f"{name}-desktop")
        if found := page_problems(page, DESKTOP["width"]):
            problems[name] = found
    return problems


def test_public_and_account_pages_are_accessible(browser, live_server) -> None:
    context = browser.new_context(locale="en-US", viewport=DESKTOP, bypass_csp=True)
    page = context.new_page()
    problems = _check(page, live_server, {
        "agenda": "/agenda/",
        "agenda-item": f"/agenda/items/{live_server.escalation_id}",
        "privacy": "/privacy",
        "login": "/auth/login",
        "register": "/auth/register",
    })
    assert not problems, problems
    context.close()


def test_facilitator_pages_are_accessible(browser, live_server) -> None:
    context = browser.new_context(locale="en-US", viewport=DESKTOP, bypass_csp=True)
    page = context.new_page()
    login_staff(page, live_server, "facilitator")
    slug = live_server.results_slug
    problems = _check(page, live_server, {
        "facilitate": "/facilitate/",
        "facilitate-round": f"/facilitate/rounds/{slug}",
        "facilitate-edit": f"/facilitate/rounds/{slug}/edit",
        "facilitate-moderation": f"/facilitate/rounds/{slug}/moderation",
        "facilitate-dashboard": f"/facilitate/rounds/{slug}/dashboard",
        "facilitate-present": f"/facilitate/rounds/{slug}/present",
    })
    assert not problems, problems
    context.close()


def test_the_presentation_reads_from_the_back_of_a_room(browser, live_server) -> None:
    """On a projector (1920 x 1080) the group table and the chart's numbers are as large as
    the presentation's own text, not the size of a desk page."""
    context = browser.new_context(locale="ja-JP", viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    try:
        login_staff(page, live_server, "facilitator")
        page.goto(f"{live_server.url}/facilitate/rounds/{live_server.results_slug}/present")
        sizes = page.evaluate("""() => ({
            cell: parseFloat(getComputedStyle(document.querySelector('.fac-present td')).fontSize),
            tick: document.querySelector('.fac-present .fac-tick').getBoundingClientRect().height})""")
        assert sizes["cell"] >= 24 and sizes["tick"] >= 18, sizes
    finally:
        context.close()


def test_council_answers_and_the_public_sees_it(browser, live_server) -> None:
    context = browser.new_context(locale="en-US", viewport=DESKTOP, bypass_csp=True)
    page = context.new_page()
    login_staff(page, live_server, "council")
    item = f"/agenda/council/items/{live_server.escalation_id}"
    problems = _check(page, live_server, {"council": "/agenda/council/", "council-item": item})
    assert not problems, problems
    page.select_option("select[name=status]", "answered")
    page.select_option("select[name=outcome]", "adopted")
    page.fill("textarea[name=answer]", "来年の春に整備します。")  # the town answers in Japanese
    page.fill("textarea[name=reasons]", "すべての意見グループで支持されました。")
    with page.expect_navigation():
        page.click("form.stack button:has-text(\"Save response\")")
    assert "The response was saved." in page.content()
    anonymous = browser.new_context(locale="en-US", viewport=DESKTOP)
    public = anonymous.new_page()
    public.goto(f"{live_server.url}/agenda/items/{live_server.escalation_id}")
    assert "来年の春に整備します。" in public.content()
    anonymous.close()
    context.close()


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_council_item_says_how_solid_the_support_is(browser, live_server, viewport) -> None:
    size = PHONE if viewport == "phone" else DESKTOP
    context = browser.new_context(locale="ja-JP", viewport=size, bypass_csp=True)
    page = context.new_page()
    login_staff(page, live_server, "council")
    page.goto(f"{live_server.url}/agenda/council/items/{live_server.escalation_id}")
    lenses = page.locator(".agenda-lenses")
    assert "意見のグループ分け 3 通りのうち、2 通りで条件を満たしています。" in lenses.inner_text()
    assert "意見が対立する両側の人たちから支持されています。" in lenses.inner_text()
    details = lenses.locator("details")
    assert not details.locator("dl").is_visible()  # the figures wait behind 「くわしく」
    details.locator("summary").click()
    assert "0.31" in details.inner_text() and "3 グループ（主成分分析）" in details.inner_text()
    screenshot(page, f"council-item-lenses-{viewport}")
    problems = page_problems(page, size["width"])
    assert not problems, problems
    context.close()


def test_a_date_in_the_council_list_is_never_cut_in_two(browser, live_server) -> None:
    """Squeezed by a long proposal and round title beside it, a date and time breaks at
    its space only ("2027/01/30" whole, not "2027/01/" and "30 1:09"), and a status badge
    stays on one line (not 受付 / 済み)."""
    context = browser.new_context(locale="ja-JP", viewport=DESKTOP)
    page = context.new_page()
    try:
        login_staff(page, live_server, "council")
        page.goto(f"{live_server.url}/agenda/council/")
        page.evaluate("""() => document.querySelectorAll('.agenda-table tbody tr').forEach(tr => {
            tr.cells[0].querySelector('a').textContent = '長い提案の文章です。'.repeat(12);
            tr.cells[1].textContent = '長いラウンドの名前です。'.repeat(6); })""")
        cut = page.evaluate("""() => {
            const lines = (node, end) => { const r = document.createRange();
                r.setStart(node, 0); r.setEnd(node, end);
                return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; };
            const out = [];
            document.querySelectorAll('.agenda-table td.when').forEach(td => {
                const text = td.firstChild;
                if (text && lines(text, text.data.trim().indexOf(' ')) > 1) out.push(text.data); });
            document.querySelectorAll('.agenda-table .badge').forEach(b => {
                if (lines(b.firstChild, b.firstChild.data.length) > 1) out.push(b.textContent); });
            return out; }""")
        assert page.locator(".agenda-table td.when").count() >= 2
        assert not cut, cut
    finally:
        context.close()
