"""Hostile text is stored as text (control and bidi characters removed) and shown escaped."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from deliberation.models import User
from deliberation.text import clean_text
from tests.security.conftest import client_for

EN = {"Accept-Language": "en"}

HOSTILE = [
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7*7 }} {% raw %}",
    "abc\u202edcba\u2066x\u2069",  # RTL override / isolates
    "tab\tbell\x07null\x00esc\x1b",
    "家族👨‍👩‍👧 🇯🇵 emoji",
]


def _register(client, display_name: str):
    return client.post("/auth/register", headers=EN, data={
        "email": "hostile@example.org", "display_name": display_name, "kind": "resident",
        "password": "correct horse battery", "password2": "correct horse battery",
        "consent": "y"})


@pytest.mark.parametrize("name", HOSTILE)
def test_display_name_is_stored_clean_and_shown_escaped(app, db, name: str) -> None:
    client = app.test_client()
    assert _register(client, name).status_code == 303
    stored = db.session.scalar(sa.select(User.display_name))
    assert stored == clean_text(name)
    assert "\u202e" not in stored and "\x00" not in stored and "\x07" not in stored
    assert client.post("/auth/login", data={"email": "hostile@example.org",
                                            "password": "correct horse battery"}).status_code == 303
    page = client.get("/auth/password", headers=EN).get_data(as_text=True)
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "49" not in page.split("Logged in as")[1][:200]  # not evaluated as a template
    if "<" in name:
        assert "&lt;" in page
    if "emoji" in name:
        assert "👨‍👩‍👧" in page  # zero-width joiners kept


def test_admin_page_escapes_names(app, db) -> None:
    from tests.security.conftest import quick_user

    quick_user(display_name="<b>bold</b><script>x()</script>")
    page = client_for(app, quick_user("admin")).get("/admin/users").get_data(as_text=True)
    assert "<script>x()" not in page and "&lt;script&gt;x()" in page


@pytest.mark.parametrize("name,message", [
    ("\u202e\u200b\x00", "Please enter a display name."),
    ("x" * 81, "Please enter at most 80 characters."),
])
def test_bad_display_names_are_refused(app, db, name: str, message: str) -> None:
    response = _register(app.test_client(), name)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_service_refuses_overlong_display_name(db) -> None:
    from deliberation.errors import DomainError
    from deliberation.services import accounts

    with pytest.raises(DomainError):
        accounts.register(email="long@example.org", password="correct horse battery",
                          display_name="x" * 200, kind="resident", consent_version="v")
