"""A signed cookie naming the accounts this browser has logged in to (as keyed hashes).

The login back-off per account (deliberation/services/login_throttle.py) does not apply
to such a browser, so an attacker guessing an account's password from elsewhere never
makes its owner wait on their own devices.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.wrappers import Response

from deliberation.services import accounts

COOKIE = "hiroba_device"
MAX_ACCOUNTS = 10
MAX_AGE = 180 * 24 * 3600


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="hiroba-device")


def _tag(email: str) -> str:
    key = hashlib.sha256(("device:" + current_app.secret_key).encode()).digest()
    return hmac.new(key, accounts.normalise_email(email).encode(), hashlib.sha256).hexdigest()[:32]


def _known() -> list[str]:
    raw = request.cookies.get(COOKIE, "")
    if not raw or len(raw) > 4000:
        return []
    try:
        tags = _serializer().loads(raw)
    except BadSignature:
        return []
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def knows(email: str) -> bool:
    return _tag(email) in _known()


def remember(response: Response, email: str) -> None:
    tag = _tag(email)
    tags = [*[t for t in _known() if t != tag][-(MAX_ACCOUNTS - 1):], tag]
    response.set_cookie(COOKIE, _serializer().dumps(tags), max_age=MAX_AGE, httponly=True,
                        samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"],
                        path=current_app.config.get("APPLICATION_ROOT") or "/")
