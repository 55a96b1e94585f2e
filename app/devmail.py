"""Development only: the mails written to ``instance/mail/`` (no mail server needed).

Answers 404 unless ``MAIL_DEV_PAGE`` is on (the development configuration) and no
``MAIL_URL`` is set, so production never shows anyone's mail.
"""

from __future__ import annotations

import email
import re
from email import policy
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template

from app.mail import mail_folder

bp = Blueprint("devmail", __name__)

NAME = re.compile(r"^[0-9TZ]{16,30}\.eml$")


def _enabled() -> bool:
    return bool(current_app.config.get("MAIL_DEV_PAGE")) and not current_app.config.get("MAIL_URL")


def _read(path: Path) -> dict:
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    body = message.get_body(preferencelist=("plain",))
    return {"name": path.name, "to": str(message["To"]), "subject": str(message["Subject"]),
            # the Date header as a datetime (None without one), shown as the pages show times
            "date": message["Date"].datetime if message["Date"] else None,
            "text": body.get_content() if body else ""}


@bp.route("/dev/mail")
def index() -> str:
    if not _enabled():
        abort(404)
    folder = mail_folder(current_app)
    files = sorted(folder.glob("*.eml"), reverse=True)[:100] if folder.is_dir() else []
    return render_template("devmail/index.html", mails=[_read(p) for p in files])


@bp.route("/dev/mail/<name>")
def show(name: str) -> str:
    if not _enabled() or not NAME.match(name):
        abort(404)
    path = mail_folder(current_app) / name
    if not path.is_file():
        abort(404)
    return render_template("devmail/show.html", mail=_read(path))
