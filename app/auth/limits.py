"""Rate limits of the account pages (Flask-Limiter decorators; 429 with a translated page).

- ``password_reentry_limit``: every form that asks for the password again (change of
  password, of address, deletion, resending a confirmation), ``PASSWORD_REENTRY_RATE_LIMIT``
  per account, counted together for all of them.
- ``submitted_email_limit``: forms that send a mail to the address typed in (registration,
  password reset), ``MAIL_REQUEST_RATE_LIMIT`` per inbox typed in (its sub-addresses
  and, at Gmail, dotted spellings count together), so nobody can flood a mailbox through
  them; only requests that sent a mail count. The answer is the same
  whether the address has an account.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from flask_limiter import RequestLimit
from flask_login import current_user
from werkzeug.wrappers import Response

from app.extensions import limiter
from deliberation.services import accounts

# A form refused by a rate limit is shown again as typed (passwords excepted) with the
# reason, instead of the bare 429 page: endpoint -> function(reason) -> 429 response.
REFUSED_FORMS: dict[str, Callable[[str], Response]] = {}

MAIL_REQUEST_REFUSED = _l(
    "Several mails have just been sent to this address. Please wait a while and try again; "
    "what you typed is still here.")


def refused_form(reason: object) -> Callable[[RequestLimit], Response | None]:
    """An ``on_breach`` callback: the refused form again, saying ``reason``."""

    def on_breach(_limit: RequestLimit) -> Response | None:
        render = REFUSED_FORMS.get(request.endpoint or "")
        if render is None or request.is_json:
            # A JSON body is no form a person typed (and may not even parse): the plain
            # 429 page says the same without reading it.
            return None
        return render(str(reason))

    return on_breach


def _account_key() -> str:
    return f"user:{current_user.id}" if current_user.is_authenticated else "anonymous"


def _submitted_email_key() -> str:
    # the inbox, not the address: hanako+1@, hanako+2@ ... (and at Gmail h.anako@) all
    # deliver to one inbox, which a limit per spelling would let anyone fill
    return "email:" + accounts.mailbox(request.form.get("email") or "")[:254]


password_reentry_limit = limiter.shared_limit(
    lambda: current_app.config["PASSWORD_REENTRY_RATE_LIMIT"], scope="password-reentry",
    key_func=_account_key, methods=["POST"],
)

submitted_email_limit = limiter.shared_limit(
    lambda: current_app.config["MAIL_REQUEST_RATE_LIMIT"], scope="mail-request",
    key_func=_submitted_email_key, methods=["POST"],
    # Only requests that queued a mail count: fixing a typo in the form costs nothing.
    deduct_when=lambda response: response.status_code == 303,
    on_breach=refused_form(MAIL_REQUEST_REFUSED),
)
