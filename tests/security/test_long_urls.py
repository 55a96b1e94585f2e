"""An address too long to be a link anyone made (a query string of thousands of bytes) is
refused with a translated 414 before any view reads it; links of ordinary length pass."""

from __future__ import annotations

import pytest
from flask import Flask

from tests import factories
from tests.security.conftest import client_for, quick_user, table_counts

JA = {"Accept-Language": "ja"}
TOO_LONG = "アドレス（URL）が長すぎます"


@pytest.fixture()
def round_(app: Flask, db):
    return factories.make_round(slug="nagai", phase="voting")


@pytest.mark.parametrize("path", ["/", "/agenda/", "/rounds/nagai/results", "/rounds/nagai/proposals",
                                  "/api/v1/rounds", "/no-such-page"])
def test_a_query_over_the_limit_is_a_translated_414(app: Flask, round_, path: str) -> None:
    query = "q=" + "あ" * 2000  # 18,002 bytes once percent-escaped
    response = app.test_client().get(f"{path}?{query}", headers=JA)
    assert response.status_code == 414
    if path.startswith("/api/"):
        assert response.get_json()["error"]["status"] == 414
    else:
        assert TOO_LONG in response.get_data(as_text=True)


def test_htmx_sees_the_refusal_as_a_fragment(app: Flask, round_) -> None:
    response = app.test_client().get("/agenda/?" + "page=1&" * 1000,
                                     headers={**JA, "HX-Request": "true"})
    assert response.status_code == 414
    page = response.get_data(as_text=True)
    assert TOO_LONG in page and "<html" not in page


def test_a_form_post_with_a_long_query_stores_nothing(app: Flask, round_) -> None:
    client = client_for(app, quick_user())
    before = table_counts()
    response = client.post("/rounds/nagai/propose?" + "x" * 9000,
                           data={"text": "公園にベンチを増やしてほしい"}, headers=JA)
    assert response.status_code == 414
    assert table_counts() == before


def test_ordinary_links_pass(app: Flask, round_) -> None:
    query = "q=" + "公園" * 100 + "&page=2"  # a long search, 1,200 bytes escaped
    assert app.test_client().get(f"/rounds/nagai/proposals?{query}", headers=JA).status_code == 200
