"""Flask-Login hooks and server-side sessions.

The id in the session cookie and the remember-me cookie is ``account:nonce:session``. The
nonce changes with the password (every session ends); the session id is one of the
account's live sessions (``User.session_ids``), added at login and removed at logout, so a
copied session or remember-me cookie stops working once its owner logs out.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app import outage
from app.drafts import keep_draft
from app.errors import render_error, wants_json
from app.htmx import is_htmx
from deliberation.database import db
from deliberation.models import User

# Every logged-in request reads its account: a statement built once keeps its cache key,
# where ``session.get`` builds the statement and its key again on every call.
ACCOUNT = sa.select(User).where(User.id == sa.bindparam("user_id"))


def _parse_session_id(session_id: str) -> tuple[int, str, str] | None:
    user_id, _sep, rest = session_id.partition(":")
    nonce, _sep, live_id = rest.partition(":")
    if not (user_id.isascii() and user_id.isdigit()) or len(user_id) > 18 or not live_id:
        return None
    return int(user_id), nonce, live_id


def load_user(session_id: str) -> User | None:
    if outage.active():  # rendering the outage page: anonymous, without a query
        return None
    parsed = _parse_session_id(session_id)
    if parsed is None:
        return None
    user_id, nonce, live_id = parsed
    user = db.session.scalar(ACCOUNT, {"user_id": user_id})
    if user is None or user.session_nonce != nonce or not user.is_active \
            or live_id not in user.live_sessions():
        return None
    user.current_session_id = live_id
    return user


def signed_in_user() -> User:
    """The logged-in account as the model object the services take: ``current_user`` is
    Flask-Login's proxy to it, and the session's identity map hands back that same object
    (the one ``load_user`` returned, with its ``current_session_id``), without a query."""
    user = db.session.get(User, current_user.id)
    assert user is not None, "only for views that require a login"
    return user


def start_session(user: User, *, remember: bool = False) -> None:
    """Log ``user`` in with a new server-side session and a new CSRF token."""
    from flask_login import login_user

    # A fresh CSRF secret: a token seen before the login is worthless after it.
    session.pop(current_app.config["WTF_CSRF_FIELD_NAME"], None)
    g.pop(current_app.config["WTF_CSRF_FIELD_NAME"], None)
    user.add_session()
    db.session.commit()
    login_user(user, remember=remember)


def end_session() -> None:
    """Log out: the session id is dropped server-side, so copies of the session and
    remember-me cookies no longer work either."""
    from flask_login import logout_user

    user = signed_in_user() if is_logged_in() else None
    if user is not None:
        user.end_session(user.current_session_id)
        db.session.commit()
    logout_user()
    session.pop(current_app.config["WTF_CSRF_FIELD_NAME"], None)


def unauthorized() -> Response:
    if wants_json():
        return render_error(401, _("Please log in."))
    keep_draft()
    login_url = url_for("auth.login", next=request.full_path.rstrip("?"))
    if is_htmx():
        response = Response(status=204)
        response.headers["HX-Redirect"] = login_url
        return response
    return redirect(login_url, code=303)


def is_logged_in() -> bool:
    return bool(current_user and current_user.is_authenticated)
