"""Rate limits of the account pages (Flask-Limiter decorators; 429 with a translated page).

- ``password_reentry_limit``: every form that asks for the password again (change of
  password, of address, deletion, resending a confirmation), ``PASSWORD_REENTRY_RATE_LIMIT``
  per account, counted together for all of them.
- ``submitted_email_limit``: forms that send a mail to the address typed in (registration,
  password reset), ``MAIL_REQUEST_RATE_LIMIT`` per address typed in, so nobody can flood
  a mailbox through them; only requests that sent a mail count. The answer is the same
  whether the address has an account.
"""

from __future__ import annotations

from flask import current_app, request
from flask_login import current_user

from app.extensions import limiter


def _account_key() -> str:
    return f"user:{current_user.id}" if current_user.is_authenticated else "anonymous"


def _submitted_email_key() -> str:
    return "email:" + (request.form.get("email") or "").strip().lower()[:254]


password_reentry_limit = limiter.shared_limit(
    lambda: current_app.config["PASSWORD_REENTRY_RATE_LIMIT"], scope="password-reentry",
    key_func=_account_key, methods=["POST"],
)

submitted_email_limit = limiter.shared_limit(
    lambda: current_app.config["MAIL_REQUEST_RATE_LIMIT"], scope="mail-request",
    key_func=_submitted_email_key, methods=["POST"],
    # Only requests that queued a mail count: fixing a typo in the form costs nothing.
    deduct_when=lambda response: response.status_code == 303,
)
