"""A database outage, a killed connection or a locked database gives the app's own
translated 503 (page, htmx fragment, JSON) with Retry-After, rendered without the database;
the vote card offers to send the same vote again. Never a bare "Internal Server Error"."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from deliberation.database import db as _db
from deliberation.models import Vote
from tests import factories
from tests.conftest import IsolatedClient

JA = {"Accept-Language": "ja"}
HTMX = {**JA, "HX-Request": "true"}
UNAVAILABLE_JA = "一時的に利用できません"
RETRY_JA = "もう一度送る"


def _logged_in(client: FlaskClient, session_id: str = "1:nonce:session", lang: str | None = None
               ) -> FlaskClient:
    factories.log_in(client, session_id)
    if lang:
        with client.session_transaction() as session:
            session["lang"] = lang
    return client


def _assert_app_page(response, status: int = 503) -> str:
    body = response.get_data(as_text=True)
    assert response.status_code == status, body[:500]
    assert "Traceback" not in body and "OperationalError" not in body
    assert "Internal Server Error" not in body
    if status == 503:
        assert int(response.headers["Retry-After"]) > 0
    return body


@pytest.fixture(params=[
    "sqlite:////nonexistent-directory/hiroba.sqlite3",
    "postgresql+psycopg://hiroba@127.0.0.1:1/hiroba",  # nothing listens on port 1
])
def broken_app(request: pytest.FixtureRequest) -> Iterator[Flask]:
    url = request.param
    broken = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url,
                         "PROPAGATE_EXCEPTIONS": False,  # a bug gets the 500 page, as live
                         "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}}
                         if url.startswith("postgresql") else {}})
    broken.test_client_class = IsolatedClient
    broken.add_url_rule("/_test/boom", "boom", lambda: 1 / 0)
    yield broken
    with broken.app_context():
        _db.engine.dispose()


def test_outage_page_for_a_logged_in_person_in_their_session_language(broken_app: Flask) -> None:
    client = _logged_in(broken_app.test_client())
    body = _assert_app_page(client.get("/", headers=JA))
    assert '<html lang="ja">' in body and UNAVAILABLE_JA in body
    english = _logged_in(broken_app.test_client(), lang="en")
    body = _assert_app_page(english.get("/rounds/some-round"))
    assert '<html lang="en">' in body and "Temporarily unavailable" in body


def test_outage_fragment_and_json(broken_app: Flask) -> None:
    client = _logged_in(broken_app.test_client())
    fragment = _assert_app_page(client.get("/agenda/", headers=HTMX))
    assert UNAVAILABLE_JA in fragment and "<html" not in fragment
    api = client.get("/api/v1/rounds", headers=JA)
    _assert_app_page(api)
    assert api.get_json()["error"]["status"] == 503
    accepts_json = client.get("/", headers={**JA, "Accept": "application/json"})
    assert accepts_json.get_json()["error"]["title"] == UNAVAILABLE_JA


def test_outage_during_a_vote_offers_to_send_it_again(broken_app: Flask) -> None:
    client = _logged_in(broken_app.test_client())
    vote = {"proposal_id": "7", "value": "-1", "back": "card"}
    htmx = client.post("/rounds/some-round/vote", data=vote, headers=HTMX)
    fragment = _assert_app_page(htmx)
    assert htmx.headers["HX-Retarget"] == "#vote-card-problem"
    assert RETRY_JA in fragment and "反対" in fragment
    assert 'name="value" value="-1"' in fragment and 'name="proposal_id" value="7"' in fragment
    page = _assert_app_page(client.post("/rounds/some-round/vote", data=vote, headers={
        **JA, "Referer": "http://localhost/rounds/some-round/vote"}))
    assert RETRY_JA in page and 'name="value" value="-1"' in page
    assert 'href="http://localhost/rounds/some-round/vote"' in page  # go back


def test_500_page_does_not_touch_the_database(broken_app: Flask) -> None:
    """With the database down, a bug still gets the 500 page (a query would make it 503)."""
    client = _logged_in(broken_app.test_client())
    body = _assert_app_page(client.get("/_test/boom", headers=JA), status=500)
    assert "問題が発生しました" in body


# ------------------------------------------------------------------ real failures


def _vote_world() -> tuple[str, int, str]:
    round_ = factories.make_round(phase="voting")
    proposal = factories.make_proposal(round_, "Shade trees on the main street")
    user = factories.make_user()
    return round_.slug, proposal.id, factories.session_cookie_id(user)


def test_locked_sqlite_database_gives_503_and_the_vote_can_be_sent_again(
        tmp_path: Path) -> None:
    path = tmp_path / "locked.sqlite3"
    locked_app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                             "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"timeout": 0.2}}})
    locked_app.test_client_class = IsolatedClient
    with locked_app.app_context():
        _db.create_all()
        slug, proposal_id, session_id = _vote_world()
    client = _logged_in(locked_app.test_client(), session_id)
    card = client.get(f"/rounds/{slug}/vote", headers=JA).get_data(as_text=True)
    assert 'id="vote-card-problem"' in card

    other_writer = sqlite3.connect(path, isolation_level=None)
    other_writer.execute("BEGIN IMMEDIATE")  # holds the write lock
    try:
        vote = {"proposal_id": str(proposal_id), "value": "1", "back": "card"}
        htmx = client.post(f"/rounds/{slug}/vote", data=vote, headers=HTMX)
        fragment = _assert_app_page(htmx)
        assert RETRY_JA in fragment and "賛成" in fragment
        page = _assert_app_page(client.post(f"/rounds/{slug}/vote", data=vote, headers=JA))
        assert UNAVAILABLE_JA in page and RETRY_JA in page
        api = client.post(f"/api/v1/rounds/{slug}/votes", json={"proposal_id": proposal_id,
                                                                "value": 1}, headers=JA)
        _assert_app_page(api)
    finally:
        other_writer.execute("ROLLBACK")
        other_writer.close()

    again = client.post(f"/rounds/{slug}/vote", data=vote, headers=HTMX)
    assert again.status_code == 200
    with locked_app.app_context():
        assert _db.session.scalars(sa.select(Vote.value)).all() == [1]
        _db.session.remove()
        _db.engine.dispose()


def test_killed_postgresql_connection_mid_request_gives_503_then_recovers(
        app: Flask, db) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    slug, proposal_id, session_id = _vote_world()
    client = _logged_in(app.test_client(), session_id)
    assert client.get(f"/rounds/{slug}/vote").status_code == 200
    admin = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
    killed: list[int] = []

    def kill_own_backend(conn, cursor, statement, parameters, context, executemany):
        if not killed:
            pid = conn.connection.dbapi_connection.info.backend_pid
            with admin.connect() as other:
                other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            killed.append(pid)

    vote = {"proposal_id": str(proposal_id), "value": "0", "back": "card"}
    sa.event.listen(db.engine, "before_cursor_execute", kill_own_backend)
    try:
        response = client.post(f"/rounds/{slug}/vote", data=vote, headers=HTMX)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", kill_own_backend)
        admin.dispose()
    assert killed
    fragment = _assert_app_page(response)
    assert RETRY_JA in fragment and 'name="value" value="0"' in fragment
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 0

    again = client.post(f"/rounds/{slug}/vote", data=vote, headers=HTMX)  # a new connection
    assert again.status_code == 200
    assert db.session.scalars(sa.select(Vote.value)).all() == [0]


def test_sqlite_runs_in_wal_with_busy_timeout(app: Flask, db) -> None:
    if _db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with _db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
