"""Forms reuse the CSRF token their request was checked with (app/csrf_tokens.py)."""

from __future__ import annotations

import itertools
import re
import time

import pytest
from flask import Flask, g, session
from flask_wtf.csrf import generate_csrf, validate_csrf
from itsdangerous import TimestampSigner

from app.csrf_tokens import form_csrf_token
from tests import factories
from tests.security.conftest import client_for, quick_user

FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
HEADER_TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')
PROPOSAL_ID = re.compile(r'name="proposal_id" value="(\d+)"')


@pytest.fixture(autouse=True)
def _every_signature_differs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A token signed again differs from the first: each signature gets a later timestamp."""
    clock = itertools.count(int(time.time()))
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda _self: next(clock))


def test_the_vote_card_carries_the_token_the_vote_was_checked_with(csrf_app: Flask, db) -> None:  # noqa: ANN001
    round_ = factories.make_round(phase="voting")
    for _ in range(3):
        factories.make_proposal(round_)
    client = client_for(csrf_app, quick_user())
    page = client.get(f"/rounds/{round_.slug}/vote").get_data(as_text=True)
    token = FORM_TOKEN.search(page).group(1)
    assert HEADER_TOKEN.search(page).group(1) == token

    for value in ("1", "-1"):  # htmx sends the card form's field and the page's header
        proposal_id = PROPOSAL_ID.search(page).group(1)
        card = client.post(f"/rounds/{round_.slug}/vote",
                           data={"proposal_id": proposal_id, "value": value, "csrf_token": token},
                           headers={"HX-Request": "true", "X-CSRFToken": token})
        page = card.get_data(as_text=True)
        assert card.status_code == 200 and "vote-card" in page
        assert FORM_TOKEN.search(page).group(1) == token  # reused, not signed again


def _checked_request(app: Flask, token: str, **form: str):  # noqa: ANN202
    """A request context whose POST passed the CSRF check with ``token`` in the header."""
    context = app.test_request_context("/", method="POST", data=form,
                                       headers={"X-CSRFToken": token})
    return context


@pytest.fixture()
def signed(csrf_app: Flask) -> tuple[str, str]:
    """(session secret, a token signed for it)."""
    with csrf_app.test_request_context("/"):
        token = generate_csrf()
        return session["csrf_token"], token


def test_a_checked_token_is_reused_form_field_first(csrf_app: Flask, signed) -> None:  # noqa: ANN001
    secret, token = signed
    for header, form in (("header-token", {"csrf_token": token}),
                         ("header-token", {"prefix-csrf_token": token}),
                         (token, {})):
        with _checked_request(csrf_app, header, **form):
            session["csrf_token"] = secret
            g.csrf_valid = True
            assert form_csrf_token() == token
            assert "csrf_token" not in g  # nothing signed


@pytest.mark.parametrize("case", ["not checked", "session cleared", "tokens expire",
                                  "already generated"])
def test_a_new_token_otherwise(csrf_app: Flask, signed, case: str) -> None:  # noqa: ANN001
    secret, token = signed
    with _checked_request(csrf_app, token):
        session["csrf_token"] = secret
        g.csrf_valid = case != "not checked"
        if case == "session cleared":
            session.clear()
        if case == "tokens expire":
            csrf_app.config["WTF_CSRF_TIME_LIMIT"] = 3600
        try:
            generated = generate_csrf() if case == "already generated" else None
            new = form_csrf_token()
        finally:
            csrf_app.config["WTF_CSRF_TIME_LIMIT"] = None
        assert new != token and new == g.csrf_token  # signed by Flask-WTF
        assert generated in (None, new)
        validate_csrf(new)  # valid for the session as it is now
