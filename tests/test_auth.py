"""Accounts: registration with consent, login/logout, passwords, safe redirects."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.config import config_class
from deliberation.models import AuditEntry, User
from tests.factories import PASSWORD


def register_form(**overrides: str) -> dict[str, str]:
    data = {
        "email": "hanako@example.org",
        "display_name": "Hanako",
        "kind": "e_citizen",
        "password": "long enough password",
        "password2": "long enough password",
        "consent": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_register_page_shows_consent_notice(client):
    response = client.get("/auth/register", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Email address and password" in body
    assert 'name="consent"' in body
    assert "checked" not in body.split('name="consent"')[1].split(">")[0]  # opt-in


def test_every_relation_to_the_town_says_who_it_is_for(client):
    """A person who does not live in the town chooses between two kinds: each needs its
    meaning beside its name, in Japanese (住民：…) as in English."""
    for lang, colon in (("ja", "："), ("en", ": ")):
        body = client.get("/auth/register", headers={"Accept-Language": lang}).get_data(as_text=True)
        labels = re.findall(r'<label class="radio"><input[^>]*name="kind"[^>]*>([^<]*)</label>', body)
        assert len(labels) == 3 and all(colon in label for label in labels), labels


def test_the_page_registered_from_is_where_the_login_after_it_leads(client, db):
    response = client.post("/auth/register?next=/rounds/town/vote", data=register_form())
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'href="/auth/login?next=/rounds/town/vote"' in page
    # another site is never a target
    page = client.get("/auth/check-mail?reason=register&next=//evil.example/").get_data(
        as_text=True)
    assert 'class="button" href="/auth/login?next=/"' in page


def test_register_with_consent_creates_account_and_asks_to_confirm(app, client, db):
    response = client.post("/auth/register", data=register_form())
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/check-mail?reason=register"
    user = db.session.scalar(sa.select(User).where(User.email == "hanako@example.org"))
    assert user is not None
    assert user.kind == "e_citizen" and user.role == "citizen"
    assert user.consent_version and user.consented_at is not None
    assert user.password_hash.startswith(app.config["PASSWORD_HASH_METHOD"] + "$")
    assert user.verification_level == "unverified" and user.email_confirmed_at is None
    # Not logged in: a taken address must get the very same answer (no enumeration).
    assert client.get("/auth/password").status_code == 303


def test_register_keeps_the_language_picked_with_the_switch(client, db):
    assert client.post("/language", data={"lang": "en"}).status_code == 303
    assert client.post("/auth/register", data=register_form()).status_code == 303
    user = db.session.scalar(sa.select(User).where(User.email == "hanako@example.org"))
    assert user.locale == "en"
    client.post("/auth/logout")
    with client.session_transaction() as session:  # another device, in Japanese
        session.clear()
    html = client.post("/auth/login", data={"email": "hanako@example.org",
                                            "password": register_form()["password"]},
                       follow_redirects=True).get_data(as_text=True)
    assert 'lang="en"' in html


def test_register_without_a_language_switch_stores_none(client, db):
    client.post("/auth/register", data=register_form(), headers={"Accept-Language": "en"})
    user = db.session.scalar(sa.select(User).where(User.email == "hanako@example.org"))
    assert user.locale is None  # the browser's language is followed, not stored


def test_register_without_consent_creates_nothing(client, db):
    response = client.post("/auth/register", data=register_form(consent=None),
                           headers={"Accept-Language": "en"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "Without your consent" in body
    # the box itself says it needs an answer, and which message is about it
    box = re.search(r'<input[^>]*name="consent"[^>]*>', body).group(0)
    assert 'aria-invalid="true"' in box and 'aria-describedby="consent-error"' in box
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_register_duplicate_email_answers_like_a_new_one(client, db, make_user):
    make_user(email="hanako@example.org")
    response = client.post("/auth/register", data=register_form(email="Hanako@Example.org"),
                           headers={"Accept-Language": "en"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/check-mail?reason=register"
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1


def test_register_mismatched_passwords_keeps_input(client, db):
    response = client.post("/auth/register", data=register_form(password2="different one"),
                           headers={"Accept-Language": "en"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "The passwords differ." in body
    assert 'value="hanako@example.org"' in body  # nothing typed is lost


def test_login_and_logout(client, make_user):
    make_user(email="taro@example.org")
    response = client.post("/auth/login", data={"email": "taro@example.org", "password": PASSWORD})
    assert response.status_code == 303
    assert client.get("/account/").status_code == 200
    response = client.post("/auth/logout")
    assert response.status_code == 303
    assert client.get("/account/").headers["Location"].startswith("/auth/login")


def test_passwords_are_hashed_with_scrypt_outside_tests(app, client, db):
    for name in ("development", "production"):
        assert config_class(name).PASSWORD_HASH_METHOD == "scrypt"
    app.config["PASSWORD_HASH_METHOD"] = "scrypt"
    try:
        client.post("/auth/register", data=register_form())
    finally:
        app.config["PASSWORD_HASH_METHOD"] = config_class("testing").PASSWORD_HASH_METHOD
    user = db.session.scalar(sa.select(User).where(User.email == "hanako@example.org"))
    assert user.password_hash.startswith("scrypt:")
    client.post("/auth/logout")
    # The hash names its method, so an account keeps logging in whatever the setting is now.
    response = client.post("/auth/login", data={"email": "hanako@example.org",
                                                "password": "long enough password"})
    assert response.status_code == 303


def test_wrong_password_is_refused(client, make_user):
    make_user(email="taro@example.org")
    response = client.post("/auth/login", data={"email": "taro@example.org", "password": "nope"},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "Wrong email address or password." in response.get_data(as_text=True)
    assert client.get("/account/").headers["Location"].startswith("/auth/login")


def test_login_next_redirect_is_safe(client, make_user):
    make_user(email="taro@example.org")
    data = {"email": "taro@example.org", "password": PASSWORD}
    response = client.post("/auth/login?next=/privacy", data=data)
    assert response.headers["Location"] == "/privacy"
    client.post("/auth/logout")
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post("/auth/login", query_string={"next": evil}, data=data)
        assert response.headers["Location"] == "/", evil
        client.post("/auth/logout")


def test_change_password_logs_out_other_sessions(app, client, db, make_user):
    user = make_user(email="taro@example.org")
    other_device = app.test_client()
    for c in (client, other_device):
        c.post("/auth/login", data={"email": "taro@example.org", "password": PASSWORD})
    response = client.post("/auth/password", data={
        "current": PASSWORD, "password": "a new password", "password2": "a new password"})
    assert response.status_code == 303
    assert client.get("/auth/password").status_code == 200  # this device stays logged in
    assert other_device.get("/auth/password").status_code == 303  # the other one does not
    db.session.refresh(user)
    assert user.check_password("a new password")
    actions = db.session.scalars(sa.select(AuditEntry.action)).all()
    assert "account.password_changed" in actions


def test_change_password_with_wrong_current_password(client, login_as):
    user = login_as("citizen")
    response = client.post("/auth/password", data={
        "current": "wrong", "password": "a new password", "password2": "a new password"},
        headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "The current password is wrong." in response.get_data(as_text=True)
    assert user.check_password(PASSWORD)


def test_anonymous_htmx_request_gets_hx_redirect(client):
    response = client.get("/auth/password", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/auth/login?next=")


def test_a_refused_choice_is_announced_with_its_buttons(client, db):
    """A screen reader reads a group of radio buttons from its legend and its description:
    the error is that description, and the cursor is put on the group's first button."""
    response = client.post("/auth/register", data=register_form(kind=None),
                           headers={"Accept-Language": "ja"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    error = re.search(r'<p class="error" id="([\w-]+)">', body)
    assert error is not None
    fieldset = re.search(r"<fieldset[^>]*>", body)
    assert fieldset is not None and f'aria-describedby="{error.group(1)}"' in fieldset.group(0)
    first = re.search(r'<input[^>]*name="kind"[^>]*>', body)
    assert first is not None and "autofocus" in first.group(0)
    assert 'name="email"' in body and 'value="hanako@example.org"' in body
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0
