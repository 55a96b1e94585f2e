"""Server-side sessions: logout ends the session and its remember-me cookie everywhere."""

from __future__ import annotations

import re

from flask import Flask

from tests import factories

EN = {"Accept-Language": "en"}


def _login(app: Flask, email: str, *, remember: bool = False):
    client = app.test_client()
    data = {"email": email, "password": factories.PASSWORD}
    if remember:
        data["remember"] = "y"
    assert client.post("/auth/login", data=data).status_code == 303
    return client


def _copy_cookies(source, target, *names: str) -> None:
    for name in names:
        cookie = source.get_cookie(name)
        assert cookie is not None, name
        target.set_cookie(name, cookie.value)


def test_a_copied_session_cookie_stops_working_at_logout(app: Flask, db) -> None:
    factories.make_user(email="taro@example.org")
    owner = _login(app, "taro@example.org")
    thief = app.test_client()
    _copy_cookies(owner, thief, "session")
    assert thief.get("/account/data.json").status_code == 200

    assert owner.post("/auth/logout").status_code == 303

    assert thief.get("/account/data.json").status_code == 303  # to the login page


def test_a_copied_remember_me_cookie_stops_working_at_logout(app: Flask, db) -> None:
    factories.make_user(email="taro@example.org")
    owner = _login(app, "taro@example.org", remember=True)
    thief = app.test_client()
    remembered = owner.get_cookie("remember_token").value
    thief.set_cookie("remember_token", remembered)
    assert thief.get("/account/data.json").status_code == 200  # restored from the cookie

    assert owner.post("/auth/logout").status_code == 303

    assert thief.get("/account/data.json").status_code == 303
    # A thief who kept only the remember-me cookie, in a browser without a session, too.
    bare = app.test_client()
    bare.set_cookie("remember_token", remembered)
    assert bare.get("/account/data.json").status_code == 303


def test_logout_on_one_device_keeps_the_others(app: Flask, db) -> None:
    factories.make_user(email="taro@example.org")
    phone = _login(app, "taro@example.org")
    laptop = _login(app, "taro@example.org")
    assert phone.post("/auth/logout").status_code == 303
    assert phone.get("/account/data.json").status_code == 303
    assert laptop.get("/account/data.json").status_code == 200


def test_login_renews_the_csrf_token(csrf_app: Flask, db) -> None:
    factories.make_user(email="taro@example.org")
    client = csrf_app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    with client.session_transaction() as session:
        before = session["csrf_token"]
    response = client.post("/auth/login", data={
        "email": "taro@example.org", "password": factories.PASSWORD, "csrf_token": token})
    assert response.status_code == 303
    client.get("/")
    with client.session_transaction() as session:
        assert session.get("csrf_token") not in (None, before)
