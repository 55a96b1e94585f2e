"""The CSRF token in a response's forms: the one the request was just checked with, if any.

Flask-WTF's ``csrf_token()`` signs a new token for every response that has a form (JSON,
zlib and an HMAC: 3% of the instructions of a vote from the card, which answers every vote
with a new card and its form; issue 7). Our tokens do not expire
(``WTF_CSRF_TIME_LIMIT = None``): any token that matches the session's secret is as good as
a new one. So a response to a request that passed the CSRF check reuses the token that
request sent, as long as the session's secret is still the one it was checked against.
Everything else gets Flask-WTF's ``generate_csrf()``.

``init_app`` makes this the templates' ``csrf_token()``.
"""

from __future__ import annotations

from flask import Flask, current_app, g, session
from flask_wtf.csrf import generate_csrf

from app.extensions import csrf


def form_csrf_token() -> str:
    field = current_app.config["WTF_CSRF_FIELD_NAME"]
    if (
        g.get("csrf_valid")  # set by Flask-WTF's CSRFProtect.protect() once a token passed
        and current_app.config["WTF_CSRF_TIME_LIMIT"] is None
        and field not in g  # no token generated yet (that one is cached for the request)
        and field in session  # the secret the token was checked against is still there
    ):
        # The very lookup protect() checked (form field, prefixed field, then the headers);
        # a private method of the pinned Flask-WTF, so both always agree on the token.
        token = csrf._get_csrf_token()
        if token:
            return token
    return generate_csrf()


def init_app(app: Flask) -> None:
    """Call after ``CSRFProtect.init_app``, which installs ``generate_csrf`` instead."""
    app.jinja_env.globals["csrf_token"] = form_csrf_token
