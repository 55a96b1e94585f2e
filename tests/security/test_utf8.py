"""Forms, query strings and JSON that are not UTF-8 are refused with a translated 400 and
store nothing (Werkzeug would otherwise keep the bytes as percent-escapes)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import Flask

from deliberation.models import Proposal
from tests import factories
from tests.security.conftest import client_for, quick_user, table_counts

JA = {"Accept-Language": "ja"}
NOT_UTF8 = "送信された文字の一部を読み取れませんでした（UTF-8 ではありません）"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture()
def setup(app: Flask, db) -> dict:
    round_ = factories.make_round(phase="collecting")
    return {"round": round_, "client": client_for(app, quick_user())}


@pytest.mark.parametrize("body", [
    b"text=%FF%FE",  # percent-escaped bytes that are not UTF-8
    b"text=caf%E9",  # Latin-1
    b"text=%E6%97",  # a cut-off Japanese character
    b"text=\xff\xfeabc",  # raw bytes
    b"te%FFxt=hello",  # in a field name
])
@pytest.mark.parametrize("htmx", [False, True])
def test_form_that_is_not_utf8_is_refused(setup: dict, body: bytes, htmx: bool) -> None:
    before = table_counts()
    headers = {**JA, "Content-Type": FORM, **({"HX-Request": "true"} if htmx else {})}
    response = setup["client"].post(f"/rounds/{setup['round'].slug}/propose", data=body,
                                    headers=headers)
    assert response.status_code == 400
    assert NOT_UTF8 in response.get_data(as_text=True)
    assert table_counts() == before


def test_multipart_field_that_is_not_utf8_is_refused(setup: dict) -> None:
    boundary = "b0undary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n".encode()
            + b"\xff\xfe bad" + f"\r\n--{boundary}--\r\n".encode())
    before = table_counts()
    response = setup["client"].post(
        f"/rounds/{setup['round'].slug}/propose", data=body,
        headers={**JA, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 400
    assert NOT_UTF8 in response.get_data(as_text=True)
    assert table_counts() == before


@pytest.mark.parametrize("query", ["page=%FF", "%C3=1", "round=%E6%97"])
def test_query_string_that_is_not_utf8_is_refused(setup: dict, query: str) -> None:
    for path in (f"/rounds/{setup['round'].slug}/results", "/agenda/"):
        response = setup["client"].get(f"{path}?{query}", headers=JA)
        assert response.status_code == 400, path
        assert NOT_UTF8 in response.get_data(as_text=True)


def test_json_that_is_not_utf8_is_refused(setup: dict) -> None:
    before = table_counts()
    response = setup["client"].post(
        f"/api/v1/rounds/{setup['round'].slug}/proposals", data=b'{"text": "caf\xe9"}',
        headers={**JA, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert "JSON として読み取れません" in response.get_json()["error"]["message"]
    assert table_counts() == before


def test_utf8_text_still_works(setup: dict, db) -> None:
    text = "駅前に屋根付きの駐輪場を 🚲"
    response = setup["client"].post(f"/rounds/{setup['round'].slug}/propose",
                                    data=("text=" + quote(text)).encode(),
                                    headers={**JA, "Content-Type": FORM})
    assert response.status_code == 303
    assert db.session.scalar(sa.select(Proposal.text)) == text
    # a UTF-8 filter is read as a round's address (none here: the translated 404), not
    # refused as undecodable
    response = setup["client"].get(f"/agenda/?round={quote('駅')}", headers=JA)
    assert response.status_code == 404
    assert "このアドレスのページはありません" in response.get_data(as_text=True)
