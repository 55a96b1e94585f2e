"""E-mail confirmation and password reset in headless Chromium, reading the mails from a
real SMTP server on 127.0.0.1 (aiosmtpd), delivered by the app's own sender thread."""

from __future__ import annotations

import email
import re
import threading
import time
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage

import pytest

from tests.e2e.browsing import CHROMIUM, DESKTOP, PHONE, axe, for_the_browser, free_port, screenshot

pytestmark = pytest.mark.e2e


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def wait_for(self, to: str, timeout: float = 15.0) -> EmailMessage:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for message in self.messages:
                    if message["To"] == to:
                        self.messages.remove(message)
                        return message
            time.sleep(0.1)
        raise AssertionError(f"no mail to {to}")

    @staticmethod
    def link(message: EmailMessage, part: str) -> str:
        text = message.get_body(preferencelist=("plain",)).get_content()
        return re.search(r"https?://\S*" + re.escape(part) + r"\S*", text).group(0)


@pytest.fixture(scope="module")
def mail_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Inbox]]:
    if not CHROMIUM.exists():
        pytest.skip("no chromium")
    from aiosmtpd.controller import Controller
    from werkzeug.serving import make_server

    from app import create_app
    from app.mail import start_sender
    from deliberation.database import db
    from tests.conftest import compile_catalogs

    compile_catalogs()
    inbox = Inbox()
    smtp_port, port = free_port(), free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    url = f"http://127.0.0.1:{port}"
    path = tmp_path_factory.mktemp("e2e-mail") / "mail.sqlite3"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                      "WTF_CSRF_ENABLED": True, "RATELIMIT_ENABLED": False,
                      "MAIL_URL": f"smtp://127.0.0.1:{smtp_port}", "PUBLIC_URL": url,
                      "MAIL_POLL_SECONDS": 0.2})
    with app.app_context():
        db.create_all()
    server = make_server("127.0.0.1", port, for_the_browser(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    sender_thread, stop = start_sender(app)
    try:
        yield url, inbox
    finally:
        stop.set()
        sender_thread.join(5)
        server.shutdown()
        thread.join(5)
        smtp.stop()
        with app.app_context():
            db.engine.dispose()


def _submit(page) -> None:
    with page.expect_navigation():
        page.click("main form.stack button[type=submit]")


@pytest.mark.parametrize("viewport,suffix,js", [(PHONE, "phone", True),
                                                (DESKTOP, "desktop", False)])
def test_register_confirm_forget_and_reset(browser, mail_server, viewport, suffix, js) -> None:
    url, inbox = mail_server
    context = browser.new_context(locale="ja-JP", viewport=viewport, bypass_csp=True,
                                  java_script_enabled=js)
    context.set_default_timeout(10_000)
    page = context.new_page()
    address = f"hanako-{suffix}@example.org"
    problems: dict[str, list] = {}

    page.goto(f"{url}/auth/register")
    page.fill("input[name=email]", address)
    page.fill("input[name=display_name]", "花子")
    page.fill("input[name=password]", "password")
    page.fill("input[name=password2]", "password")
    page.check("input[name=consent]")
    _submit(page)
    assert "推測されやすい" in page.inner_text("main")  # refused, in Japanese
    assert page.input_value("input[name=email]") == address  # nothing typed is lost
    page.fill("input[name=password]", "violet kettle harbour")
    page.fill("input[name=password2]", "violet kettle harbour")
    page.check("input[name=consent]")
    _submit(page)
    assert "/auth/check-mail" in page.url and "メールをご確認ください" in page.inner_text("h1")
    problems["check-mail"] = axe(page) if js else []
    screenshot(page, f"check-mail-{suffix}")

    confirm = inbox.wait_for(address)
    assert "メールアドレスを確認" in str(confirm["Subject"])
    page.goto(inbox.link(confirm, "/auth/confirm/"))
    problems["confirm"] = axe(page) if js else []
    _submit(page)
    assert "確認しました" in page.inner_text("main")

    page.goto(f"{url}/auth/login")
    page.get_by_role("link", name="パスワードをお忘れですか？").click()
    page.wait_for_url("**/auth/reset")
    problems["reset-request"] = axe(page) if js else []
    page.fill("input[name=email]", address)
    _submit(page)
    reset = inbox.wait_for(address)
    page.goto(inbox.link(reset, "/auth/reset/"))
    problems["reset-password"] = axe(page) if js else []
    screenshot(page, f"reset-password-{suffix}")
    page.fill("input[name=password]", "amber lantern meadow")
    page.fill("input[name=password2]", "amber lantern meadow")
    _submit(page)
    assert "/auth/login" in page.url
    page.fill("input[name=email]", address)
    page.fill("input[name=password]", "amber lantern meadow")
    _submit(page)
    page.goto(f"{url}/auth/password")
    assert "確認済み" in page.inner_text("main")  # the address is confirmed
    problems["account"] = axe(page) if js else []
    screenshot(page, f"account-{suffix}")
    assert not {k: v for k, v in problems.items() if v}, problems
    context.close()
