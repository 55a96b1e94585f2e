"""Mails from the web layer: rendered in the recipient's language, queued in the outbox.

``queue_mail`` renders ``templates/mail/<template>.txt`` in the recipient's locale (the
stop link and the signature are in ``mail/_footer.txt``), composes the message and adds
it to the outbox in the current transaction; the sender (``start_sender``) delivers it.
Links in mails start with ``PUBLIC_URL`` when it is set, never with a Host header sent by
the client (a forged Host would otherwise put an attacker's site into a reset link).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from flask import Flask, current_app, has_request_context, render_template, url_for
from flask_babel import force_locale, format_number, gettext
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.terminal import Refused, TerminalGroup, in_terminal_language, running_app
from deliberation.database import db
from deliberation.ids import parse_id
from deliberation.mail.compose import Mail, html_from_text
from deliberation.mail.transport import FolderTransport, SMTPTransport, Transport
from deliberation.models import User
from deliberation.services import mail as outbox

log = logging.getLogger(__name__)


def mail_folder(app: Flask) -> Path:
    return Path(app.instance_path) / "mail"


def transport_for(app: Flask) -> Transport | None:
    """SMTP with ``MAIL_URL``; else the instance folder, except in production (None)."""
    if app.config.get("MAIL_URL"):
        return SMTPTransport.from_url(app.config["MAIL_URL"],
                                      timeout=float(app.config["MAIL_TIMEOUT"]))
    if app.config.get("ENVIRONMENT") == "production":
        return None
    return FolderTransport(mail_folder(app))


def sender() -> outbox.Sender:
    """``MAIL_FROM_NAME`` after the town's name when one is set (in the mail's language)."""
    from app import town

    name = current_app.config["MAIL_FROM_NAME"]
    town_name = town.localized().name
    shown = f"{town_name} {name}" if town_name else name
    # One line: a header cannot hold a line break, and a town name saved with one (the
    # settings keep line breaks) would make every mail fail to compose.
    return outbox.Sender(address=current_app.config["MAIL_FROM"], name=" ".join(shown.split()))


def external_url(endpoint: str, **values: Any) -> str:
    public = current_app.config.get("PUBLIC_URL")
    if public:
        parts = urlsplit(public)
        adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/",
                                           url_scheme=parts.scheme or "https")
        return adapter.build(endpoint, values, force_external=True)
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    adapter = current_app.url_map.bind("127.0.0.1:5000", url_scheme="http")
    return adapter.build(endpoint, values, force_external=True)


# ------------------------------------------------------------------ signed tokens


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=f"hiroba-{purpose}")


def make_token(purpose: str, payload: dict[str, Any]) -> str:
    return _serializer(purpose).dumps(payload)


def read_token(purpose: str, token: str, *, max_age: int | None) -> dict[str, Any] | None:
    """The payload of a token made for ``purpose``, or None (forged, expired, malformed)."""
    if len(token) > 1000:
        return None
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age)
    except BadSignature:  # includes SignatureExpired
        return None
    return payload if isinstance(payload, dict) else None


def token_account(payload: dict[str, Any]) -> User | None:
    """The account a token's payload names (``"u"``), or None (deleted since, or no id)."""
    user_id = parse_id(payload.get("u"))
    return db.session.get(User, user_id) if user_id is not None else None


def unsubscribe_url(address: str) -> str:
    return external_url("account.unsubscribe", token=make_token("unsubscribe", {"a": address}))


# ------------------------------------------------------------------ queueing


def queue_mail(*, to: str, purpose: str, template: str, subject: Callable[[], str],
               locale: str | None, **context: Any) -> None:
    """Render and queue one mail (committed with the caller's transaction)."""
    stop_url = unsubscribe_url(to)
    language = locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(language):
        title = str(subject())
        text = render_template(f"mail/{template}.txt", unsubscribe_url=stop_url,
                               home_url=external_url("main.index"), **context)
        from_ = sender()
    outbox.queue(Mail(to=to, subject=title, text=text, html=html_from_text(text, lang=language),
                      unsubscribe_url=stop_url),
                 purpose=purpose, sender=from_)


# ------------------------------------------------------------------ the sender


def before_pass() -> None:
    """Before each delivery pass: queue the notifications that are due, forget old
    login failures."""
    from app import notifications
    from deliberation.services import login_throttle

    notifications.queue_due()
    login_throttle.forget_older_than(timedelta(days=1))


def deliver_now(app: Flask) -> tuple[int, int]:
    """One pass of the sender (``flask mail send``, tests): notifications, then delivery."""
    from deliberation.jobs import mail_sender

    transport = transport_for(app)
    if transport is None:
        raise RuntimeError("MAIL_URL is not set: mails stay in the outbox")
    return mail_sender.run_once(transport, envelope_from=app.config["MAIL_FROM"],
                                max_attempts=int(app.config["MAIL_MAX_ATTEMPTS"]),
                                before_pass=before_pass)


def start_sender(app: Flask) -> Any:
    """Start the sender thread beside the clustering runner; None without a transport."""
    from deliberation.jobs import mail_sender

    transport = transport_for(app)
    if transport is None:
        log.warning("MAIL_URL is not set: mails are kept in the outbox and not sent")
        return None
    return mail_sender.start_thread(app, transport, before_pass=before_pass)


mail_cli = TerminalGroup("mail", help=_l("Outgoing mail (the outbox)."))


def _app_that_can_send() -> Flask:
    app = running_app()
    if transport_for(app) is None:
        raise Refused(gettext("MAIL_URL is not set: mails stay in the outbox. Set MAIL_URL to "
                              "the mail server and run the command again."))
    return app


@mail_cli.command("send", help=_l(
    "Deliver the mails that are due now (the sender thread does this continuously)."))
@in_terminal_language
def send_command() -> None:
    sent, failed = deliver_now(_app_that_can_send())
    # counts written as the pages write them (1,234): a notice to every subscriber can
    # leave thousands waiting
    click.echo(gettext("Sent %(sent)s, failed %(failed)s, waiting %(waiting)s.",
                       sent=format_number(sent), failed=format_number(failed),
                       waiting=format_number(outbox.pending_count())))


@mail_cli.command("test", help=_l(
    "Queue a test mail to ADDRESS and deliver it now (checks MAIL_URL)."))
@click.argument("address")
@in_terminal_language
def test_command(address: str) -> None:
    app = _app_that_can_send()
    queue_mail(to=address, purpose="test", template="test", subject=lambda: "Hiroba test",
               locale=None)
    db.session.commit()
    sent, failed = deliver_now(app)
    click.echo(gettext("Sent %(sent)s, failed %(failed)s.", sent=format_number(sent),
                       failed=format_number(failed)))
