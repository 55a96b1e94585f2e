"""Workshops and refused registrations in headless Chromium, against a live server with
rate limits on (2 registrations a minute per address: every browser here shares 127.0.0.1,
like a room on one Wi-Fi); and the admin's outbox page. Desktop and phone, with and without
JavaScript, axe-core."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tests.e2e.browsing import CHROMIUM, DESKTOP, PHONE, axe, for_the_browser, free_port, screenshot

pytestmark = pytest.mark.e2e

SLUG = "e2e-workshop"
FACILITATOR = "workshop-facilitator@e2e.example.org"
ADMIN = "workshop-admin@e2e.example.org"
PASSWORD = "staff password 123"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMIUM.exists():
        pytest.skip("no chromium")
    from werkzeug.serving import make_server

    from app import create_app
    from app.extensions import limiter
    from deliberation.database import db
    from tests import factories
    from tests.conftest import compile_catalogs

    compile_catalogs()
    path = tmp_path_factory.mktemp("e2e-workshop") / "workshop.sqlite3"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                      "WTF_CSRF_ENABLED": True, "RATELIMIT_ENABLED": True,
                      "REGISTER_RATE_LIMIT": "2 per minute"})
    with app.app_context():
        db.create_all()
        factories.make_user("facilitator", email=FACILITATOR, password=PASSWORD)
        factories.make_user("admin", email=ADMIN, password=PASSWORD)
        from deliberation.mail.compose import Mail
        from deliberation.services import mail as outbox

        row = outbox.queue(Mail(to="hanako@example.org", subject="パスワードの再設定",
                                text="https://hiroba.example/auth/reset/SECRET-TOKEN"),
                           purpose="reset_password",
                           sender=outbox.Sender("hiroba@localhost", "ひろば"))
        row.status, row.attempts, row.last_error = "failed", 12, "451 Try again later"
        db.session.commit()
        factories.make_round(slug=SLUG, phase="voting", title="駅前広場の使い方")
    port = free_port()
    http = make_server("127.0.0.1", port, for_the_browser(app), threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        http.shutdown()
        thread.join(5)
        limiter.reset()
        limiter.enabled = False  # the module-level limiter: the rest of the suite runs without
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(autouse=True)
def fresh_limits() -> None:
    from app.extensions import limiter

    limiter.reset()


def _submit(page) -> None:
    with page.expect_navigation():
        page.click("main form.stack button[type=submit]")


def _fill_registration(page, email: str, name: str) -> None:
    page.fill("input[name=email]", email)
    page.fill("input[name=display_name]", name)
    page.fill("input[name=password]", "violet kettle harbour")
    page.fill("input[name=password2]", "violet kettle harbour")
    page.check("input[name=consent]")


def _fits(page, js: bool, width: int) -> None:
    if js:
        assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("viewport,suffix,js", [(DESKTOP, "desktop", True),
                                                (PHONE, "phone", False),
                                                (PHONE, "phone-js", True)])
def test_a_workshop_lets_the_room_register(browser, server, viewport, suffix, js) -> None:
    staff = browser.new_context(locale="ja-JP", viewport=viewport, bypass_csp=True,
                                java_script_enabled=js)
    staff.set_default_timeout(10_000)
    page = staff.new_page()
    problems: dict[str, list] = {}
    page.goto(f"{server}/auth/login")
    page.fill("input[name=email]", FACILITATOR)
    page.fill("input[name=password]", PASSWORD)
    _submit(page)

    page.goto(f"{server}/facilitate/rounds/{SLUG}/workshops")
    problems["workshops"] = axe(page) if js else []
    page.fill("input[name=hours]", "20")  # refused, in Japanese, nothing stored
    page.fill("input[name=label]", f"中央公民館 {suffix}")
    _submit(page)
    assert "1以上12以下の整数" in page.inner_text("main")
    assert page.input_value("input[name=label]") == f"中央公民館 {suffix}"
    problems["workshops-error"] = axe(page) if js else []
    page.fill("input[name=hours]", "3")
    page.fill("input[name=seats]", "40")
    _submit(page)
    assert "/workshops/" in page.url
    assert "ワークショップを開きました" in page.inner_text("main")
    link = page.inner_text("code.workshop-link").strip()
    assert "/w/" in link
    if js:
        assert page.evaluate("document.querySelector('img.qr-code').naturalWidth") > 0
    problems["workshop-sheet"] = axe(page) if js else []
    _fits(page, js, viewport["width"])
    screenshot(page, f"workshop-sheet-{suffix}")

    # Four people in the room, one connection: twice the per-address limit.
    room = browser.new_context(locale="ja-JP", viewport=PHONE, bypass_csp=True,
                               java_script_enabled=js)
    room.set_default_timeout(10_000)
    person = room.new_page()
    for n in range(4):
        person.goto(link)
        assert "中央公民館" in person.inner_text("main")
        if n == 0:
            problems["register-workshop"] = axe(person) if js else []
            _fits(person, js, PHONE["width"])
            screenshot(person, f"register-workshop-{suffix}")
        _fill_registration(person, f"room{n}-{suffix}@example.org", f"参加者{n}")
        _submit(person)
        assert "/auth/check-mail" in person.url, person.inner_text("main")[:300]
    room.close()

    page.goto(f"{server}/facilitate/rounds/{SLUG}/workshops")
    row = page.locator("table.data-table tr", has_text=f"中央公民館 {suffix}")
    assert "4 / 40" in row.inner_text()
    with page.expect_navigation():
        row.locator("button").click()
    assert "ワークショップを閉じました" in page.inner_text("main")
    assert not {k: v for k, v in problems.items() if v}, problems
    staff.close()


@pytest.mark.parametrize("viewport,suffix,js", [(PHONE, "phone", True),
                                                (DESKTOP, "desktop", False)])
def test_a_refused_registration_keeps_what_was_typed(browser, server, viewport, suffix, js
                                                     ) -> None:
    context = browser.new_context(locale="ja-JP", viewport=viewport, bypass_csp=True,
                                  java_script_enabled=js)
    context.set_default_timeout(10_000)
    page = context.new_page()
    for n in range(2):
        page.goto(f"{server}/auth/register")
        _fill_registration(page, f"first{n}-{suffix}@example.org", "先に来た人")
        _submit(page)
        assert "/auth/check-mail" in page.url
    page.goto(f"{server}/auth/register")
    _fill_registration(page, f"third-{suffix}@example.org", "三人目の山田")
    _submit(page)
    main = page.inner_text("main")
    assert "この接続から短い時間に多くのアカウントが作られました" in main
    assert "パスワードは保存していません" in main
    assert page.input_value("input[name=email]") == f"third-{suffix}@example.org"
    assert page.input_value("input[name=display_name]") == "三人目の山田"
    assert page.input_value("input[name=password]") == ""
    problems = axe(page) if js else []
    _fits(page, js, viewport["width"])
    screenshot(page, f"register-refused-{suffix}")
    assert not problems, problems
    context.close()


@pytest.mark.parametrize("viewport,suffix,js", [(PHONE, "phone", True),
                                                (DESKTOP, "desktop", False)])
def test_the_admin_sees_and_retries_failed_mail(browser, server, viewport, suffix, js) -> None:
    context = browser.new_context(locale="ja-JP", viewport=viewport, bypass_csp=True,
                                  java_script_enabled=js)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{server}/auth/login")
    page.fill("input[name=email]", ADMIN)
    page.fill("input[name=password]", PASSWORD)
    _submit(page)
    page.goto(f"{server}/admin/users")
    with page.expect_navigation():
        page.get_by_role("link", name="送信待ち・送信できなかったメール").click()
    main = page.inner_text("main")
    assert "hanako@example.org" in main and "SECRET-TOKEN" not in page.content()
    problems = axe(page) if js else []
    _fits(page, js, viewport["width"])
    screenshot(page, f"admin-mail-{suffix}")
    with page.expect_navigation():
        page.locator("table.data-table button").first.click()
    assert "まもなくメールを送信しなおします" in page.inner_text("main")
    assert "送信待ち" in page.inner_text("table.data-table")
    assert not problems, problems
    context.close()
