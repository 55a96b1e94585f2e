"""Where composed mails go: an SMTP server (``MAIL_URL``) or, in development, a folder.

``MAIL_URL`` forms:

- ``smtp://user:password@host:587``: plain connection upgraded with STARTTLS; the
  password is never sent without TLS (the server must offer STARTTLS).
- ``smtp://host:25``: no login; STARTTLS when the server offers it.
- ``smtps://user:password@host:465``: TLS from the first byte.

User and password are URL-decoded (write ``@`` as ``%40``).
"""

from __future__ import annotations

import functools
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit


class MailTransportError(Exception):
    """Sending failed; the outbox retries later."""


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The system's certificate store and Python's default checks, built once per process:
    loading the store costs tens of milliseconds, and a context may serve any number of
    connections."""
    return ssl.create_default_context()


class Transport(Protocol):
    def send(self, *, envelope_from: str, recipient: str, message: str) -> None: ...


@dataclass(frozen=True)
class SMTPTransport:
    host: str
    port: int
    implicit_tls: bool
    username: str | None
    password: str | None
    timeout: float = 10.0

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 10.0) -> SMTPTransport:
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ValueError("MAIL_URL must look like smtp://user:password@host:587 "
                             "or smtps://user:password@host:465")
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 587),
            implicit_tls=implicit,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            timeout=timeout,
        )

    def send(self, *, envelope_from: str, recipient: str, message: str) -> None:
        try:
            if self.implicit_tls:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                                      context=tls_context())
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with smtp:
                smtp.ehlo()
                if not self.implicit_tls:
                    if smtp.has_extn("starttls"):
                        smtp.starttls(context=tls_context())
                        smtp.ehlo()
                    elif self.username:
                        raise MailTransportError(
                            "the server does not offer STARTTLS; not sending the password "
                            "in clear (use smtps:// or a server with STARTTLS)")
                if self.username:
                    smtp.login(self.username, self.password or "")
                refused = smtp.sendmail(envelope_from, [recipient], message.encode("ascii"))
                if refused:
                    raise MailTransportError(f"recipient refused: {refused}")
        # UnicodeError: an address no server takes without SMTPUTF8 (stored before the
        # forms refused them); it fails like a refused recipient instead of ending the pass
        except (OSError, smtplib.SMTPException, UnicodeError) as error:
            raise MailTransportError(f"{type(error).__name__}: {error}") from error


@dataclass(frozen=True)
class FolderTransport:
    """Development without a mail server: each mail becomes one ``.eml`` file."""

    directory: Path

    def send(self, *, envelope_from: str, recipient: str, message: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.directory / f"{stamp}.eml"
        path.write_bytes(message.encode("ascii"))
        path.chmod(0o600)
