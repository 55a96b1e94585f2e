"""Every facilitator route: anonymous -> login, citizen -> 403, facilitator -> OK."""

from __future__ import annotations

import pytest

from deliberation.models import ImportJob
from tests import factories

ROUTES = [
    ("GET", "/facilitate/"),
    ("GET", "/facilitate/rounds/new"),
    ("POST", "/facilitate/rounds/new"),
    ("GET", "/facilitate/rounds/{slug}"),
    ("GET", "/facilitate/rounds/{slug}/edit"),
    ("POST", "/facilitate/rounds/{slug}/edit"),
    ("POST", "/facilitate/rounds/{slug}/phase"),
    ("POST", "/facilitate/rounds/{slug}/preview"),
    ("GET", "/facilitate/rounds/{slug}/seeds"),
    ("POST", "/facilitate/rounds/{slug}/seeds"),
    ("GET", "/facilitate/import"),
    ("POST", "/facilitate/import"),
    ("GET", "/facilitate/imports/{job}"),
    ("GET", "/facilitate/rounds/{slug}/moderation"),
    ("POST", "/facilitate/rounds/{slug}/moderation"),
    ("GET", "/facilitate/audit"),
    ("GET", "/facilitate/rounds/{slug}/audit"),
    ("GET", "/facilitate/rounds/{slug}/assisted"),
    ("POST", "/facilitate/rounds/{slug}/assisted"),
    ("GET", "/facilitate/rounds/{slug}/assisted/{pid}"),
    ("POST", "/facilitate/rounds/{slug}/assisted/{pid}"),
    ("GET", "/facilitate/rounds/{slug}/present"),
    ("GET", "/facilitate/dashboard"),
    ("GET", "/facilitate/rounds/{slug}/dashboard"),
]


@pytest.fixture()
def urls(db):
    round_ = factories.make_round(slug="r1")
    participant = factories.make_participant(round_, source="assisted", label="W #1")
    job = ImportJob(slug="queued-import", round_phase="voting")
    db.session.add(job)
    db.session.commit()
    return [(m, u.format(slug=round_.slug, pid=participant.id, job=job.id)) for m, u in ROUTES]


def test_anonymous_is_sent_to_login(client, urls) -> None:
    for method, url in urls:
        response = client.open(url, method=method)
        assert response.status_code in (302, 303), url
        assert "/auth/login" in response.headers["Location"], url


def test_citizen_gets_403(client, login_as, urls) -> None:
    login_as("citizen")
    for method, url in urls:
        assert client.open(url, method=method).status_code == 403, url


def test_facilitator_and_admin_can_view(client, login_as, urls) -> None:
    login_as("facilitator")
    for method, url in urls:
        if method == "GET":
            assert client.get(url).status_code == 200, url
    login_as("admin")
    assert client.get("/facilitate/").status_code == 200


def test_csrf_is_enforced(csrf_app, client, login_as, db) -> None:
    login_as("facilitator")
    factories.make_round(slug="r2")
    response = client.post("/facilitate/rounds/r2/phase", data={"action": "close"})
    assert response.status_code == 400
    page = client.get("/facilitate/rounds/r2").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post("/facilitate/rounds/r2/phase",
                           data={"action": "close", "csrf_token": token})
    assert response.status_code == 303
