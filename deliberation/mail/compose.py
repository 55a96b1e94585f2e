"""Build one mail as RFC 5322 text that any SMTP server accepts (7-bit, CRLF).

Japanese is sent as UTF-8: the text (and optional HTML) parts in base64, the sender's
display name and the subject as RFC 2047 encoded words, which every current mail client
in Japan reads. Every mail can carry a one-click stop link (RFC 2369 ``List-Unsubscribe``
and RFC 8058 ``List-Unsubscribe-Post``), and is marked ``Auto-Submitted`` so that
auto-replies are not sent back.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str | None = None
    unsubscribe_url: str | None = None


_LINK = re.compile(r"https?://[^\s<>\"']+")


def html_from_text(text: str, *, lang: str) -> str:
    """The HTML alternative of a plain-text mail: the same words, paragraphs kept and
    links clickable; nothing that is not in the text (no images, no tracking)."""

    def paragraph(block: str) -> str:
        parts, last = [], 0
        for match in _LINK.finditer(block):
            parts.append(html.escape(block[last:match.start()]))
            url = html.escape(match.group(0))
            parts.append(f'<a href="{url}">{url}</a>')
            last = match.end()
        parts.append(html.escape(block[last:]))
        return "<p>" + "".join(parts).replace("\n", "<br>\n") + "</p>"

    blocks = [block.strip("\n") for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n"))]
    body = "\n".join(paragraph(block) for block in blocks if block.strip())
    return (f'<!DOCTYPE html>\n<html lang="{html.escape(lang)}"><head><meta charset="utf-8">'
            "</head>\n<body style=\"font-family: sans-serif; line-height: 1.7; "
            f'max-width: 40em;">\n{body}\n</body></html>\n')


def compose(mail: Mail, *, from_address: str, from_name: str, message_id_domain: str,
            now: datetime | None = None) -> str:
    """The whole message as ASCII text with CRLF line ends."""
    message = EmailMessage(policy=policy.SMTP)
    local, _at, domain = from_address.rpartition("@")
    message["From"] = Address(display_name=from_name, username=local, domain=domain)
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(now or datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=message_id_domain)
    message["Auto-Submitted"] = "auto-generated"
    if mail.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(mail.text, subtype="plain", charset="utf-8", cte="base64")
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html", charset="utf-8", cte="base64")
    text = message.as_string(policy=policy.SMTP)
    text.encode("ascii")  # a header that was not encoded would fail here, not at the server
    return text
