"""A real SMTP server on 127.0.0.1 (aiosmtpd) for the mail tests, and helpers to read it."""

from __future__ import annotations

import email
import re
import socket
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from flask import Flask

from tests.security.conftest import limited_app  # noqa: F401  (a fixture used here too)


class Collector:
    """aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.refuse = False

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 Try again later"
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def smtp_server() -> Iterator[tuple[Collector, int]]:
    collector = Collector()
    port = _free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield collector, port
    finally:
        controller.stop()


class Mailbox:
    def __init__(self, app: Flask, collector: Collector) -> None:
        self.app, self.collector = app, collector

    def deliver(self) -> list[EmailMessage]:
        """Run one sender pass; the messages the server received in it, parsed."""
        from app.mail import deliver_now

        before = len(self.collector.messages)
        with self.app.app_context():
            deliver_now(self.app)
        return [email.message_from_bytes(raw, policy=policy.default)
                for _from, _to, raw in self.collector.messages[before:]]

    @staticmethod
    def text(message: EmailMessage) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()

    @classmethod
    def link(cls, message: EmailMessage, path_part: str) -> str:
        match = re.search(r"https?://\S*" + re.escape(path_part) + r"\S*", cls.text(message))
        assert match, cls.text(message)
        return match.group(0)


@pytest.fixture()
def mailbox(app: Flask, db, smtp_server) -> Iterator[Mailbox]:
    collector, port = smtp_server
    saved = {k: app.config.get(k) for k in ("MAIL_URL", "PUBLIC_URL")}
    app.config.update(MAIL_URL=f"smtp://127.0.0.1:{port}", PUBLIC_URL="https://hiroba.example")
    yield Mailbox(app, collector)
    app.config.update(saved)
