"""Session invalidation, cookie flags, request size limits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from app import create_app
from app.extensions import limiter
from tests import factories
from tests.factories import PASSWORD

EN = {"Accept-Language": "en"}


def _login(client, email: str, remember: bool = False):
    data = {"email": email, "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    response = client.post("/auth/login", data=data)
    assert response.status_code == 303
    return response


def _logged_in(client) -> bool:
    return client.get("/auth/password").status_code == 200


def test_copied_session_cookie_dies_with_password_change(app: Flask, db) -> None:
    factories.make_user(email="copy@example.org")
    victim = app.test_client()
    _login(victim, "copy@example.org")
    stolen = victim.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert _logged_in(thief)
    victim.post("/auth/password", data={"current": PASSWORD, "password": "a new password",
                                        "password2": "a new password"})
    assert not _logged_in(thief)
    assert _logged_in(victim)


def test_remember_cookie_dies_with_password_change(app: Flask, db) -> None:
    factories.make_user(email="remember@example.org")
    device = app.test_client()
    _login(device, "remember@example.org", remember=True)
    remember = device.get_cookie("remember_token")
    assert remember is not None
    fresh = app.test_client()
    fresh.set_cookie("remember_token", remember.value)
    assert _logged_in(fresh)  # the remember cookie alone logs in ...
    other = app.test_client()
    _login(other, "remember@example.org")
    other.post("/auth/password", data={"current": PASSWORD, "password": "a new password",
                                       "password2": "a new password"})
    replay = app.test_client()
    replay.set_cookie("remember_token", remember.value)
    assert not _logged_in(replay)  # ... but not after a password change


def test_failed_password_change_keeps_other_sessions(app: Flask, db) -> None:
    factories.make_user(email="keep@example.org")
    one, two = app.test_client(), app.test_client()
    _login(one, "keep@example.org")
    _login(two, "keep@example.org")
    response = one.post("/auth/password", data={"current": "wrong", "password": "a new password",
                                                "password2": "a new password"})
    assert response.status_code == 400
    assert _logged_in(one) and _logged_in(two)


def test_logout_ends_the_session_and_login_rotates_it(app: Flask, db) -> None:
    factories.make_user(email="rotate@example.org")
    client = app.test_client()
    _login(client, "rotate@example.org")
    assert _logged_in(client)
    client.post("/auth/logout")
    assert not _logged_in(client)


def test_session_of_a_deleted_or_tampered_id_is_anonymous(app: Flask, db) -> None:
    user = factories.make_user()
    client = app.test_client()
    for bogus in (f"{user.id}:wrong-nonce", f"{user.id}", "x:y", f"{user.id + 999}:abc"):
        factories.log_in(client, bogus)
        assert not _logged_in(client), bogus


def test_testing_and_default_cookie_flags(app: Flask) -> None:
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["REMEMBER_COOKIE_HTTPONLY"] is True


@pytest.fixture()
def production_app(app: Flask, monkeypatch: pytest.MonkeyPatch, db) -> Iterator[Flask]:
    monkeypatch.setenv("HIROBA_ENV", "production")
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    prod = create_app({
        "SECRET_KEY": "production-test-secret-" + "0123456789abcdef" * 2,
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_ALLOW_MEMORY_STORAGE": True,  # one process in this test
        "CLUSTER_RUNNER": "off",
    })
    try:
        yield prod
    finally:
        limiter.enabled = False
        from deliberation.database import db as _db

        with prod.app_context():
            _db.session.remove()
            _db.engine.dispose()


def test_production_cookies_are_secure(production_app: Flask, db) -> None:
    assert production_app.config["SESSION_COOKIE_SECURE"] is True
    assert production_app.config["REMEMBER_COOKIE_SECURE"] is True
    assert production_app.config["WTF_CSRF_ENABLED"] is True
    factories.make_user(email="prod@example.org")
    client = production_app.test_client()
    page = client.get("/auth/login", base_url="https://hiroba.example.jp")
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    response = client.post("/auth/login", base_url="https://hiroba.example.jp",
                           data={"email": "prod@example.org", "password": PASSWORD,
                                 "remember": "y", "csrf_token": token},
                           headers={"Referer": "https://hiroba.example.jp/auth/login"})
    assert response.status_code == 303
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    remember_cookie = next(c for c in cookies if c.startswith("remember_token="))
    for cookie in (session_cookie, remember_cookie):
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_security_headers(client) -> None:
    headers = client.get("/").headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"


@pytest.fixture()
def small_bodies(app: Flask) -> Iterator[None]:
    previous = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 1024
    yield
    app.config["MAX_CONTENT_LENGTH"] = previous


def test_oversized_form_gets_413_with_message(client, small_bodies, db) -> None:
    response = client.post("/auth/register", data={"display_name": "x" * 5000}, headers=EN)
    assert response.status_code == 413
    assert "What you sent is too large." in response.get_data(as_text=True)
    import sqlalchemy as sa

    from deliberation.models import User

    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
