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

from flask import Flask, current_app, g, request, session
from flask_wtf.csrf import generate_csrf


def form_csrf_token() -> str:
    field = current_app.config["WTF_CSRF_FIELD_NAME"]
    if (
        g.get("csrf_valid")  # set by Flask-WTF's CSRFProtect.protect() once a token passed
        and current_app.config["WTF_CSRF_TIME_LIMIT"] is None
        and field not in g  # no token generated yet (that one is cached for the request)
        and field in session  # the secret the token was checked against is still there
    ):
        token = _checked_token(field)
        if token:
            return token
    return generate_csrf()


def _checked_token(field: str) -> str | None:
    """The token CSRFProtect checked: the form field, a prefixed form field, or a header
    (the order of ``CSRFProtect._get_csrf_token`` in Flask-WTF 1.3)."""
    if request.form.get(field):
        return request.form[field]
    for key, value in request.form.items():
        if key.endswith(field) and value:
            return value
    for header in current_app.config["WTF_CSRF_HEADERS"]:
        if request.headers.get(header):
            return request.headers[header]
    return None


def init_app(app: Flask) -> None:
    """Call after ``CSRFProtect.init_app``, which installs ``generate_csrf`` instead."""
    app.jinja_env.globals["csrf_token"] = form_csrf_token
