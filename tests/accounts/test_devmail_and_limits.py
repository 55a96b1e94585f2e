"""The development mail page, rate limits on password re-entry, login back-off."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask

from app.config import config_class
from deliberation.mail.transport import FolderTransport
from deliberation.services import mail as outbox
from tests import factories
from tests.security.conftest import client_for

EN = {"Accept-Language": "en"}


def test_dev_mail_page_lists_the_folder_in_development_only(app: Flask, client, db,
                                                            tmp_path: Path) -> None:
    assert config_class("development").MAIL_DEV_PAGE is True
    assert config_class("production").MAIL_DEV_PAGE is False
    assert client.get("/dev/mail").status_code == 404  # testing configuration
    client.post("/auth/reset", data={"email": "nobody@example.org"})
    saved = app.instance_path
    app.instance_path = str(tmp_path)
    app.config["MAIL_DEV_PAGE"] = True
    try:
        with app.app_context():
            outbox.deliver_due(FolderTransport(tmp_path / "mail"), envelope_from="x@example.org")
        page = client.get("/dev/mail", headers=EN)
        assert page.status_code == 200 and "nobody@example.org" in page.text
        [name] = [p.name for p in (tmp_path / "mail").glob("*.eml")]
        shown = client.get(f"/dev/mail/{name}", headers=EN)
        assert shown.status_code == 200 and "/auth/register" in shown.text
        # when it was sent, in the town's time as every other page writes it, not the
        # mail header's "Mon, 30 Nov 2026 14:42:25 +0000"
        japanese = client.get("/dev/mail").text
        assert re.search(r"<small>\d{4}/\d{2}/\d{2} \d{1,2}:\d{2}</small>", japanese)
        assert "+0000" not in japanese and "+0000" not in shown.text
        assert client.get("/dev/mail/..%2Fhiroba.sqlite3").status_code == 404
        assert client.get("/dev/mail/20261129T000000000000Z.eml").status_code == 404
        app.config["MAIL_URL"] = "smtp://127.0.0.1:9"  # a real server configured: no page
        assert client.get("/dev/mail").status_code == 404
    finally:
        app.instance_path = saved
        app.config.update(MAIL_DEV_PAGE=False, MAIL_URL=None)


@pytest.mark.parametrize("path, data", [
    ("/auth/password", {"current": "wrong", "password": "violet kettle harbour",
                        "password2": "violet kettle harbour"}),
    ("/account/delete", {"password": "wrong", "confirm": "y"}),
    ("/account/email", {"email": "new@example.org", "password": "wrong"}),
])
def test_password_reentry_is_rate_limited(limited_app: Flask, path: str, data: dict) -> None:
    limited_app.config["PASSWORD_REENTRY_RATE_LIMIT"] = "3 per minute"
    user = factories.make_user()
    client = client_for(limited_app, user)
    statuses = [client.post(path, data=data, headers=EN).status_code for _ in range(4)]
    assert statuses == [400, 400, 400, 429]
    assert client.get("/account/", headers=EN).status_code == 200  # reading is not limited
    # The limit is per account: another account is not affected.
    other = client_for(limited_app, factories.make_user())
    assert other.post(path, data=data, headers=EN).status_code == 400


def test_a_third_party_cannot_lock_the_owner_out(limited_app: Flask) -> None:
    """12 wrong passwords for the owner's address from one place; the owner, elsewhere,
    logs in at once."""
    # A first wait far longer than the test: the guesser's answers do not depend on how
    # fast the machine runs the loop.
    limited_app.config.update(LOGIN_RATE_LIMIT="100 per minute", LOGIN_FIRST_WAIT=600)
    factories.make_user(email="owner@example.org")
    attacker, owner = limited_app.test_client(), limited_app.test_client()
    statuses = [attacker.post("/auth/login",
                              data={"email": "owner@example.org", "password": "guess"},
                              environ_base={"REMOTE_ADDR": "203.0.113.5"}).status_code
                for _ in range(12)]
    assert statuses == [400] * 5 + [429] * 7  # five free tries, then the back-off
    blocked = attacker.post("/auth/login", headers=EN, data={
        "email": "owner@example.org", "password": factories.PASSWORD},
        environ_base={"REMOTE_ADDR": "203.0.113.5"})
    assert blocked.status_code == 429  # the guesser waits, even with the right password
    # The first wait, counted down from the fifth failure: a loaded machine may take more
    # than a second over the requests since then.
    waits = [int(n) for n in re.findall(r"wait (\d+) seconds", blocked.text)]
    assert len(waits) == 1 and 540 <= waits[0] <= 600, waits
    response = owner.post("/auth/login", data={
        "email": "owner@example.org", "password": factories.PASSWORD},
        environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert response.status_code == 303


def test_unknown_and_known_addresses_get_the_same_login_answer(limited_app: Flask) -> None:
    limited_app.config["LOGIN_RATE_LIMIT"] = "100 per minute"
    factories.make_user(email="known@example.org")
    answers = []
    for n, email in enumerate(("known@example.org", "unknown@example.org")):
        client = limited_app.test_client()
        responses = [client.post("/auth/login", headers=EN,
                                 data={"email": email, "password": "wrong guess"},
                                 environ_base={"REMOTE_ADDR": f"192.0.2.{n}"})
                     for _ in range(4)]
        answers.append([(r.status_code, "Wrong email address or password." in r.text)
                        for r in responses])
    assert answers[0] == answers[1] == [(400, True)] * 4


def test_mails_per_address_are_limited_but_typos_cost_nothing(limited_app: Flask) -> None:
    limited_app.config.update(MAIL_REQUEST_RATE_LIMIT="2 per hour",
                              REGISTER_RATE_LIMIT="100 per minute")
    client = limited_app.test_client()
    form = {"email": "hanako@example.org", "display_name": "Hanako", "kind": "resident",
            "password": "violet kettle harbour", "password2": "violet kettle harbour",
            "consent": "y"}
    for _ in range(3):  # refused forms (passwords differ) send nothing and do not count
        assert client.post("/auth/register", headers=EN,
                           data={**form, "password2": "typo"}).status_code == 400
    assert client.post("/auth/register", data=form).status_code == 303
    assert client.post("/auth/reset", data={"email": "hanako@example.org"}).status_code == 303
    assert client.post("/auth/reset", data={"email": "hanako@example.org"}).status_code == 429
    assert client.post("/auth/reset", data={"email": "other@example.org"}).status_code == 303
