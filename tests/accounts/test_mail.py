"""Outgoing mail through a real SMTP server on 127.0.0.1: composition, outbox, retries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import Flask

from app.mail import deliver_now, queue_mail
from deliberation.mail.compose import Mail, compose
from deliberation.mail.transport import SMTPTransport
from deliberation.models import OutgoingMail
from deliberation.services import mail as outbox


def test_a_japanese_mail_has_encoded_headers_and_a_plain_text_part() -> None:
    import email
    from email import policy

    raw = compose(Mail(to="taro@example.org", subject="メールアドレスの確認",
                       text="こんにちは、太郎さん。\n確認してください。",
                       unsubscribe_url="https://hiroba.example/account/unsubscribe/abc"),
                  from_address="noreply@city.example", from_name="ひろば 広場",
                  message_id_domain="city.example")
    raw.encode("ascii")  # 7-bit clean: any SMTP server takes it
    assert "\r\n" in raw
    headers = raw.split("\r\n\r\n", 1)[0]
    assert "=?utf-8?" in headers  # RFC 2047 encoded words for Subject and the From name
    assert "メール" not in headers
    message = email.message_from_string(raw, policy=policy.default)
    assert str(message["Subject"]) == "メールアドレスの確認"
    assert message["From"].addresses[0].display_name == "ひろば 広場"
    assert message["From"].addresses[0].addr_spec == "noreply@city.example"
    assert message["List-Unsubscribe"] == "<https://hiroba.example/account/unsubscribe/abc>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].endswith("@city.example>")
    body = message.get_body(preferencelist=("plain",))
    assert body.get_content_charset() == "utf-8"
    # Canonical text: CRLF line ends inside the base64 part too (RFC 2046).
    assert body.get_content().splitlines() == ["こんにちは、太郎さん。", "確認してください。"]


def test_the_html_part_escapes_the_text_and_makes_links_clickable() -> None:
    from deliberation.mail.compose import html_from_text

    html = html_from_text("<b>太郎</b> & 花子さん\n次を開いてください:\n"
                          "https://hiroba.example/auth/confirm/a.b?x=1&y=2\n\n"
                          "ひろば", lang="ja")
    assert "&lt;b&gt;太郎&lt;/b&gt; &amp; 花子さん<br>" in html
    assert ('<a href="https://hiroba.example/auth/confirm/a.b?x=1&amp;y=2">'
            "https://hiroba.example/auth/confirm/a.b?x=1&amp;y=2</a>") in html
    assert html.count("<p>") == 2 and '<html lang="ja">' in html

def test_mail_url_forms() -> None:
    plain = SMTPTransport.from_url("smtp://user%40city:p%3Ass@mail.example:587")
    assert (plain.host, plain.port, plain.implicit_tls) == ("mail.example", 587, False)
    assert (plain.username, plain.password) == ("user@city", "p:ss")
    tls = SMTPTransport.from_url("smtps://u:p@mail.example")
    assert (tls.port, tls.implicit_tls) == (465, True)
    for bad in ("http://mail.example", "smtp://", "mail.example:25"):
        try:
            SMTPTransport.from_url(bad)
        except ValueError:
            continue
        raise AssertionError(bad)


def _queue(app: Flask, to: str = "hanako@example.org") -> None:
    with app.test_request_context():
        queue_mail(to=to, purpose="test", template="test", subject=lambda: "テスト",
                   locale="ja")
        from deliberation.database import db

        db.session.commit()


def test_queued_mail_reaches_the_smtp_server_and_leaves_the_outbox(app, db, mailbox) -> None:
    _queue(app)
    assert db.session.scalar(sa.select(sa.func.count(OutgoingMail.id))) == 1
    [message] = mailbox.deliver()
    assert message["To"] == "hanako@example.org"
    assert str(message["Subject"]) == "テスト"
    text = mailbox.text(message)
    assert "ひろば" in text or "Hiroba" in text
    assert "https://hiroba.example/account/unsubscribe/" in text  # the stop link, always
    assert message["List-Unsubscribe"].startswith("<https://hiroba.example/account/unsubscribe/")
    _envelope_from, recipients, _raw = mailbox.collector.messages[0]
    assert recipients == ["hanako@example.org"]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(OutgoingMail.id))) == 0
    assert mailbox.deliver() == []  # sent once only


def test_a_refused_mail_is_retried_later_not_lost(app, db, mailbox) -> None:
    _queue(app)
    mailbox.collector.refuse = True
    assert mailbox.deliver() == []
    db.session.expire_all()
    row = db.session.scalar(sa.select(OutgoingMail))
    assert row.status == "pending" and row.attempts == 1 and "451" in row.last_error
    assert row.next_attempt_at > datetime.now(UTC) + timedelta(seconds=30)  # backed off
    assert mailbox.deliver() == []  # not due yet
    mailbox.collector.refuse = False
    row.next_attempt_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    [message] = mailbox.deliver()
    assert str(message["Subject"]) == "テスト"


def test_an_unreachable_server_is_retried_then_given_up(app, db, mailbox) -> None:
    _queue(app)
    app.config["MAIL_URL"] = "smtp://127.0.0.1:9"  # nothing listens there
    app.config["MAIL_MAX_ATTEMPTS"] = 2
    try:
        for _attempt in range(2):
            with app.app_context():
                assert deliver_now(app) == (0, 1)
            db.session.expire_all()
            row = db.session.scalar(sa.select(OutgoingMail))
            row.next_attempt_at = datetime.now(UTC) - timedelta(seconds=1)
            db.session.commit()
    finally:
        app.config["MAIL_MAX_ATTEMPTS"] = 12
    db.session.expire_all()
    row = db.session.scalar(sa.select(OutgoingMail))
    assert row.status == "failed" and row.attempts == 2  # kept for the admin, never resent


def test_retry_delays_double_up_to_an_hour() -> None:
    delays = [outbox.retry_delay(n).total_seconds() for n in range(1, 10)]
    assert delays[:4] == [60, 120, 240, 480]
    assert max(delays) == 3600


def test_without_mail_url_development_writes_eml_files(app, db, tmp_path) -> None:
    from deliberation.mail.transport import FolderTransport

    _queue(app)
    folder = tmp_path / "mail"
    with app.app_context():
        assert outbox.deliver_due(FolderTransport(folder), envelope_from="x@example.org") == (1, 0)
    [path] = folder.glob("*.eml")
    assert b"Subject: =?utf-8?" in path.read_bytes()
    assert path.stat().st_mode & 0o077 == 0


def test_production_refuses_mail_without_public_url(app: Flask) -> None:
    import pytest

    from tests.test_production import production_app

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    single = {"RATELIMIT_ALLOW_MEMORY_STORAGE": True}
    with pytest.raises(RuntimeError, match="PUBLIC_URL"):
        production_app(url, MAIL_URL="smtp://127.0.0.1:25", **single)
    assert production_app(url, MAIL_URL="smtp://127.0.0.1:25", **single,
                          PUBLIC_URL="https://hiroba.city.example").config["PUBLIC_URL"]


def test_a_forged_host_header_never_reaches_a_reset_link(client, db, mailbox) -> None:
    from tests import factories

    factories.make_user(email="taro@example.org")
    client.post("/auth/reset", data={"email": "taro@example.org"},
                headers={"Host": "evil.example"})
    [message] = mailbox.deliver()
    assert "evil.example" not in mailbox.text(message)
    assert mailbox.link(message, "/auth/reset/").startswith("https://hiroba.example/")


def test_mail_send_writes_its_counts_as_the_pages_do(app, db, mailbox) -> None:
    """A notice to every subscriber can leave thousands waiting: 1,234, not 1234."""
    later = datetime.now(UTC) + timedelta(hours=1)
    db.session.execute(sa.insert(OutgoingMail), [
        {"recipient": f"r{i}@example.org", "subject": "s", "purpose": "test", "message": "m",
         "next_attempt_at": later} for i in range(1234)])
    db.session.commit()
    runner = app.test_cli_runner()
    english = runner.invoke(args=["mail", "send"], env={"LC_ALL": "en_US.UTF-8"})
    assert english.exit_code == 0, english.output
    assert english.output == "Sent 0, failed 0, waiting 1,234.\n"
    japanese = runner.invoke(args=["mail", "send"], env={"LC_ALL": "ja_JP.UTF-8"})
    assert japanese.output == "送信 0件、失敗 0件、送信待ち 1,234件。\n"
