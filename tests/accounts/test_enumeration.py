"""No user enumeration: login, registration, password reset and e-mail change answer an
address that has an account exactly as one that has none (status, headers, redirect, body
and the flash on the next page), and do the same work (a password hash is checked, one
mail is queued) so that timing does not tell them apart either."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.test import TestResponse

import deliberation.models.user as user_model
import deliberation.services.accounts as accounts_service
from deliberation.models import OutgoingMail, User
from tests import factories

KNOWN, UNKNOWN = "known1@example.org", "nobody@example.org"  # same length
PLACEHOLDER = "ADDRESS"
CSRF_TOKEN = re.compile(r"[\w-]{20,}\.[\w-]{4,}\.[\w-]{20,}")  # a signed token, per session
LANGUAGES = pytest.mark.parametrize("language", ["ja", "en"])


def normalised(response: TestResponse, email: str) -> tuple:
    """What a visitor can observe, with the address they typed and the CSRF token masked."""
    body = response.get_data(as_text=True).replace(email, PLACEHOLDER)
    body = CSRF_TOKEN.sub("CSRF", body)
    headers = sorted((k, v.replace(email, PLACEHOLDER)) for k, v in response.headers.items()
                     if k not in {"Date", "Set-Cookie", "Content-Length"})
    cookies = sorted(c.split("=", 1)[0] for c in response.headers.getlist("Set-Cookie"))
    return response.status_code, headers, cookies, body


def landing(client, response: TestResponse, email: str) -> tuple:
    """The page the redirect leads to (with its flash), as observed."""
    assert response.status_code == 303
    return normalised(client.get(response.headers["Location"]), email)


def mails() -> int:
    from deliberation.database import db
    return db.session.scalar(sa.select(sa.func.count()).select_from(OutgoingMail))


@pytest.fixture()
def hash_checks(monkeypatch) -> list[str]:
    """Records every password hash check, wherever the service or the model does it."""
    calls: list[str] = []
    for module in (accounts_service, user_model):
        original = module.check_password_hash

        def spy(pwhash: str, password: str, _original: Callable = original) -> bool:
            calls.append(pwhash.split("$", 1)[0])
            return _original(pwhash, password)
        monkeypatch.setattr(module, "check_password_hash", spy)
    return calls


@pytest.fixture()
def hashes_made(monkeypatch) -> list[str]:
    """Records every password hash computed, by the service or the model."""
    calls: list[str] = []
    for module in (accounts_service, user_model):
        original = module.generate_password_hash

        def spy(password: str, method: str = "scrypt", salt_length: int = 16,
                _original: Callable = original) -> str:
            calls.append(method)
            return _original(password, method=method, salt_length=salt_length)
        monkeypatch.setattr(module, "generate_password_hash", spy)
    return calls


def compare(app: Flask, request: Callable[[object, str], TestResponse], *,
            follow: bool = True) -> list[tuple]:
    """The observed answers for the known and the unknown address, and the work done."""
    seen = []
    for email in (KNOWN, UNKNOWN):
        client = app.test_client()
        before = mails()
        response = request(client, email)
        seen.append((normalised(response, email),
                     landing(client, response, email) if follow else None,
                     mails() - before))
    return seen


@LANGUAGES
def test_login_answers_and_works_alike(app: Flask, db, hash_checks, language: str) -> None:
    factories.make_user(email=KNOWN)
    lang = {"Accept-Language": language}

    def login(client, email):
        return client.post("/auth/login", headers=lang,
                           data={"email": email, "password": "wrong guess 123"})
    known, unknown = compare(app, login, follow=False)
    assert known == unknown and known[0][0] == 400
    # the same work: one password hash checked for each, with the same method
    assert len(hash_checks) == 2 and hash_checks[0] == hash_checks[1]


@LANGUAGES
def test_registration_answers_and_queues_alike(app: Flask, db, hashes_made,
                                               language: str) -> None:
    factories.make_user(email=KNOWN)
    hashes_made.clear()
    lang = {"Accept-Language": language}

    def register(client, email):
        return client.post("/auth/register", headers=lang, data={
            "email": email, "display_name": "Hanako", "kind": "resident",
            "password": "a long pass phrase", "password2": "a long pass phrase",
            "consent": "y"})
    known, unknown = compare(app, register)
    assert known == unknown
    assert known[2] == 1  # one mail each: "already registered" or "confirm your address"
    assert len(hashes_made) == 2 and hashes_made[0] == hashes_made[1]  # the same work
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 2


@LANGUAGES
def test_reset_answers_and_queues_alike(app: Flask, db, language: str) -> None:
    factories.make_user(email=KNOWN)
    lang = {"Accept-Language": language}

    def reset(client, email):
        return client.post("/auth/reset", headers=lang, data={"email": email})
    known, unknown = compare(app, reset)
    assert known == unknown and known[2] == 1


@LANGUAGES
def test_email_change_answers_and_queues_alike(app: Flask, db, language: str) -> None:
    """Changing to an address another account holds looks like changing to a free one."""
    factories.make_user(email=KNOWN)
    lang = {"Accept-Language": language}

    def change(client, email):
        user = factories.make_user()
        factories.log_in(client, user)
        return client.post("/account/email", headers=lang,
                           data={"email": email, "password": factories.PASSWORD})
    known, unknown = compare(app, change)
    assert known == unknown and known[2] == 2  # to the new address, and a note to the old
