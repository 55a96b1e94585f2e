"""A database outage or a lock gives a 503 page (or JSON), never a traceback or a 500."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.exc import OperationalError

from app import create_app
from deliberation.database import db as _db

EN = {"Accept-Language": "en"}
UNAVAILABLE = "The service is temporarily unavailable."


@pytest.mark.parametrize("url", [
    "sqlite:////nonexistent-directory/hiroba.sqlite3",
    "postgresql+psycopg://hiroba@127.0.0.1:1/hiroba",  # nothing listens on port 1
])
def test_database_outage_gives_503_page(url: str) -> None:
    broken = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url,
                         "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}}
                         if url.startswith("postgresql") else {}})
    client = broken.test_client()
    page = client.get("/", headers=EN)
    assert page.status_code == 503
    body = page.get_data(as_text=True)
    assert UNAVAILABLE in body and "Traceback" not in body and "OperationalError" not in body
    api = client.get("/", headers={**EN, "Accept": "application/json"})
    assert api.status_code == 503
    assert api.get_json()["error"]["status"] == 503
    with broken.app_context():
        _db.engine.dispose()


def test_database_locked_is_503_not_500(app: Flask, client, db, monkeypatch) -> None:  # noqa: ANN001
    from app.main import routes

    def locked(*args, **kwargs):  # noqa: ANN002,ANN003,ANN202
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))

    monkeypatch.setattr(routes.db.session, "scalars", locked)
    response = client.get("/", headers=EN)
    assert response.status_code == 503
    assert UNAVAILABLE in response.get_data(as_text=True)


def test_sqlite_runs_in_wal_with_busy_timeout(app: Flask, db) -> None:  # noqa: ANN001
    if _db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with _db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
