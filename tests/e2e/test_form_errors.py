"""A refused form puts the cursor on the first field to correct, with and without
JavaScript, so nobody (a screen-reader user above all) is left at the top of a page that
looks unchanged; the round's tabs are large enough to tap on a phone."""

from __future__ import annotations

import pytest

from tests.e2e.browsing import PHONE, STAFF, login_staff, page_problems, sign_in_new

pytestmark = pytest.mark.e2e


def _focused(page) -> str:
    return page.evaluate("document.activeElement.name || document.activeElement.tagName")


@pytest.mark.parametrize("javascript", [False, True])
def test_the_first_field_with_an_error_gets_the_focus(browser, live_server, javascript) -> None:
    context = browser.new_context(locale="ja-JP", viewport=PHONE, java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/auth/register")
        page.fill("input[name=email]", "focus@example.org")
        page.fill("input[name=display_name]", "山田")
        page.fill("input[name=password]", "correct horse battery")
        page.fill("input[name=password2]", "another horse battery")
        with page.expect_navigation():
            page.click("form.stack button[type=submit]")
        assert page.get_by_text("パスワードが一致しません。").is_visible()
        # the first of the two errors (passwords differ, consent missing)
        assert _focused(page) == "password2"
        assert page.input_value("input[name=email]") == "focus@example.org"

        if javascript:
            sign_in_new(page, live_server)
            page.goto(f"{live_server.url}/rounds/{live_server.slug}/propose")
            with page.expect_navigation():
                page.get_by_role("button", name="提案を送信").click()
            assert page.get_by_text("提案を入力してください。").is_visible()
            assert _focused(page) == "text"
    finally:
        context.close()


@pytest.mark.parametrize("javascript", [False, True])
def test_a_refusal_after_a_redirect_takes_the_focus(browser, live_server, javascript) -> None:
    """A refused action that redirects (an administrator taking away their own role; a held
    escalation decided without a reason) came back to a page that looks as before, with the
    focus at its top and the error in a live region present at load, which screen readers
    do not announce; the error takes the focus."""
    context = browser.new_context(locale="ja-JP", viewport=PHONE, java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        login_staff(page, live_server, "admin")
        page.goto(f"{live_server.url}/admin/users?q={STAFF['admin']}")
        own = page.locator("tr", has_text=STAFF["admin"])
        own.locator("select[name=role]").select_option("citizen")
        with page.expect_navigation():
            own.get_by_role("button", name="保存").click()
        error = page.locator(".flash-error")
        assert "管理者の役割を外すことはできません" in error.inner_text()
        assert error.evaluate("e => e === document.activeElement")
    finally:
        context.close()


def test_a_refused_htmx_action_brings_its_error_into_view(browser, live_server) -> None:
    """Rejecting without a reason, at the bottom of a long moderation queue on a phone: the
    answer replaces the queue, and its error is at the top of it."""
    context = browser.new_context(locale="ja-JP", viewport=PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in_new(page, live_server)
        page.goto(f"{live_server.url}/rounds/{live_server.slug}/propose")
        page.fill("textarea[name=text]", "公民館の和室にも、座ったまま使える机を置いてほしい")
        with page.expect_navigation():
            page.get_by_role("button", name="提案を送信").click()
        page.context.clear_cookies()
        login_staff(page, live_server, "facilitator")
        page.goto(f"{live_server.url}/facilitate/rounds/{live_server.slug}/moderation")
        page.locator("input[name=proposal_id]").first.check()
        with page.expect_response(lambda r: r.request.method == "POST"):
            page.locator("button[value=reject]").click()
        error = page.get_by_role("alert").filter(has_text="理由が必要です")
        error.wait_for()
        assert error.evaluate("e => e === document.activeElement")
        box = error.bounding_box()
        assert box is not None and 0 <= box["y"] < PHONE["height"], box
    finally:
        context.close()


def _small_links_in_navigation(page) -> dict:
    found = {}
    for link in page.locator("nav a, nav button").all():
        box = link.bounding_box()
        if box and (box["width"] < 44 or box["height"] < 44):
            found[link.inner_text()] = (round(box["width"]), round(box["height"]))
    return found


def test_menus_and_tabs_are_large_enough_to_tap(browser, live_server) -> None:
    context = browser.new_context(locale="ja-JP", viewport=PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        small = {}
        page.goto(f"{live_server.url}/rounds/{live_server.results_slug}")
        small.update(_small_links_in_navigation(page))
        login_staff(page, live_server, "admin")  # every item of the main menu, two-kanji ones too
        page.goto(f"{live_server.url}/facilitate/rounds/{live_server.results_slug}")
        small.update(_small_links_in_navigation(page))
        assert not small, small
    finally:
        context.close()


# Links that stand alone on their line: the only thing in their paragraph or heading (a
# "back" link, "Forgot your password?", a card's title). Links inside a sentence are left
# to the sentence's line height, as WCAG allows.
_SMALL_LONE_LINKS = """() => [...document.querySelectorAll('main a[href]')].filter(a => {
  const parent = a.parentElement;
  if (!/^(P|H2|H3)$/.test(parent.tagName)) return false;
  if (parent.textContent.trim() !== a.textContent.trim()) return false;
  return a.getBoundingClientRect().height < 44;
}).map(a => a.textContent.trim().slice(0, 30) + ' ' + Math.round(a.getBoundingClientRect().height))"""


# Buttons side by side in one paragraph that wrap onto two lines on a phone: the one below
# must not touch the one above, or a thumb meant for one presses the other.
_TOUCHING_BUTTONS = """() => [...document.querySelectorAll('main p')].flatMap(p => {
  const buttons = [...p.children].filter(e => e.classList.contains('button'));
  return buttons.slice(1).filter((b, i) => {
    const r = b.getBoundingClientRect(), q = buttons[i].getBoundingClientRect();
    const apart = Math.max(r.left - q.right, q.left - r.right, r.top - q.bottom, q.top - r.bottom);
    return apart < 4;
  }).map(b => b.textContent.trim().slice(0, 30));
})"""


def test_links_alone_on_their_line_are_large_enough_to_tap(browser, live_server) -> None:
    context = browser.new_context(locale="ja-JP", viewport=PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        small = {}
        for path in ("/", "/auth/login", "/agenda/", f"/agenda/items/{live_server.escalation_id}"):
            page.goto(live_server.url + path)
            small[path] = page.evaluate(_SMALL_LONE_LINKS)
        sign_in_new(page, live_server)
        for path in ("/account/", "/auth/password", f"/rounds/{live_server.slug}/proposals"):
            page.goto(live_server.url + path)
            small[path] = page.evaluate(_SMALL_LONE_LINKS) + page.evaluate(_TOUCHING_BUTTONS)
        # the two links under the vote buttons, side by side: one must not be hit for the
        # other
        page.goto(f"{live_server.url}/rounds/{live_server.slug}/vote")
        small["vote card"] = [name for name in ("すべての提案を見る", "この提案を通報")
                              if page.locator("#vote-card").get_by_role("link", name=name)
                              .bounding_box()["height"] < 44]
        assert not {path: links for path, links in small.items() if links}
    finally:
        context.close()


def _failing_post(body: str):
    def handle(route) -> None:
        if route.request.method == "POST":
            route.fulfill(status=502, body=body, content_type="text/html")
        else:
            route.continue_()
    return handle


def test_an_error_page_from_in_front_of_the_app_is_not_put_into_the_vote_card(
        browser, live_server) -> None:
    """A proxy's own error page (502 when the app restarts) or an empty error answer: the
    vote card stays as it was and the page says, in its language, that it did not work."""
    context = browser.new_context(locale="ja-JP", viewport=PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in_new(page, live_server, f"/rounds/{live_server.slug}/vote")
        text = page.locator("#vote-card .proposal-text").inner_text()
        for body in ("<html><head><title>502 Bad Gateway</title></head><body><center>"
                     "<h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
                     ""):
            page.route("**/vote", _failing_post(body))
            page.get_by_role("button", name="賛成", exact=True).click()
            alert = page.locator("#htmx-errors [role=alert]")
            alert.wait_for()
            assert "もう一度" in alert.inner_text() and "502" not in alert.inner_text()
            assert page.locator("#vote-card .proposal-text").inner_text() == text
            assert "Bad Gateway" not in page.locator("main").inner_text()
            page.unroute("**/vote")
            page.evaluate("document.getElementById('htmx-errors').replaceChildren()")
    finally:
        context.close()


@pytest.mark.parametrize("javascript", [False, True])
def test_staff_forms_answer_an_empty_reason_with_the_pages_own_error(
        browser, live_server, javascript) -> None:
    """Withdrawing an escalation or escalating by hand without a reason: the browser's own
    bubble (in the browser's language whatever the page's, gone at the next key) stopped
    the form before the page's error, marked on the field, could say what to do."""
    context = browser.new_context(locale="ja-JP", viewport=PHONE, java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        login_staff(page, live_server, "facilitator")
        for path, button in (
                (f"/agenda/manage/items/{live_server.escalation_id}/withdraw", "取り下げる"),
                (f"/agenda/manage/rounds/{live_server.results_slug}/escalate", "議会に届ける")):
            page.goto(f"{live_server.url}{path}")
            with page.expect_navigation():
                page.get_by_role("button", name=button).click()
            reason = page.locator("textarea[name=reason]")
            assert reason.get_attribute("aria-invalid") == "true", path
            assert page.locator("#reason-error").inner_text().strip() == "入力してください。", path
    finally:
        context.close()


def test_a_proposal_written_while_the_login_ended_comes_back_after_logging_in(
        browser, live_server) -> None:
    """On a phone, someone types a proposal slowly and their login ends meanwhile: sending
    it leads to the login form, and once logged in again the proposal form has their words
    back, says so, and sends them."""
    context = browser.new_context(locale="ja-JP", viewport=PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    propose = f"/rounds/{live_server.slug}/propose"
    words = "バスの時刻表を、大きな文字でバス停に貼ってほしい。"
    try:
        email = sign_in_new(page, live_server, next_path=propose)
        page.goto(f"{live_server.url}{propose}")
        page.fill("textarea[name=text]", words)
        page.context.clear_cookies()  # the session cookie expired while they wrote
        with page.expect_navigation():
            page.get_by_role("button", name="提案を送信").click()
        assert "/auth/login" in page.url
        assert "ログイン" in page.locator(".flash-error").inner_text()
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", "correct horse battery")
        with page.expect_navigation():
            page.click("form.stack button[type=submit]")
        assert page.url.endswith(propose)
        assert page.input_value("textarea[name=text]") == words
        note = page.locator("#draft-restored")
        assert note.is_visible() and "戻しました" in note.inner_text()
        assert not page_problems(page, PHONE["width"])
        with page.expect_navigation():
            page.get_by_role("button", name="提案を送信").click()
        assert page.locator(".flash-success").is_visible()
        page.goto(f"{live_server.url}{propose}")  # a new proposal starts empty
        assert page.input_value("textarea[name=text]") == ""
        page.fill("textarea[name=text]", "書きかけの提案")
        kept = "() => Object.keys(sessionStorage).filter(k => k.startsWith('hiroba-draft:'))"
        assert page.evaluate(kept)
        with page.expect_navigation():
            page.locator("form[data-forget-drafts] button").click()  # log out
        assert page.evaluate(kept) == []  # nothing of it stays in the tab
    finally:
        context.close()
