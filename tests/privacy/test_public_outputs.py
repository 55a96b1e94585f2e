"""Public pages and API responses never contain emails, display names or account ids."""

from __future__ import annotations

import re

from flask import Flask

from tests.api.conftest import DISTINCT_EMAIL, DISTINCT_NAME, api_round  # noqa: F401

PUBLIC_PAGES = ["/", "/privacy", "/rounds/{slug}", "/rounds/{slug}/proposals",
                "/rounds/{slug}/proposals/{pid}", "/rounds/{slug}/results"]
API = ["/api/v1/rounds", "/api/v1/rounds/{slug}", "/api/v1/rounds/{slug}/proposals",
       "/api/v1/rounds/{slug}/results", "/api/v1/rounds/{slug}/agenda"]


def test_public_outputs_have_no_personal_data(app: Flask, api_round) -> None:  # noqa: F811
    client = app.test_client()
    slug, pid = api_round["round"].slug, api_round["open"].id
    user_id = api_round["user"].id
    for template in PUBLIC_PAGES + API:
        path = template.format(slug=slug, pid=pid)
        response = client.get(path, headers={"Accept-Language": "en"})
        assert response.status_code == 200, path
        body = response.get_data(as_text=True)
        assert DISTINCT_EMAIL not in body, path
        assert DISTINCT_NAME not in body, path
        assert "Zebulon" not in body, path
        assert not re.search(r'"(user_id|participant_id|author_id|email)"', body), path
        assert f"user{user_id}" not in body and f"/users/{user_id}" not in body, path
