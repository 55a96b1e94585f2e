"""A database restart ends every pooled connection; the next request still succeeds
(``pool_pre_ping`` replaces a dead connection on checkout)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from app import create_app
from app.config import Config
from deliberation.database import db as _db
from tests.conftest import IsolatedClient


def test_app_survives_a_database_restart(app: Flask, db) -> None:
    """PostgreSQL: the server ends every pooled connection (as a restart does); the next
    request still succeeds."""
    if _db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    # The engine options every deployment runs with (the tests' own app leaves the
    # liveness check out).
    served = create_app({"TESTING": True,
                         "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                         "SQLALCHEMY_ENGINE_OPTIONS": Config.SQLALCHEMY_ENGINE_OPTIONS})
    assert served.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
    served.test_client_class = IsolatedClient
    client = served.test_client()
    try:
        assert client.get("/healthz").status_code == 200  # leaves a connection in the pool
        killer = sa.create_engine(_db.engine.url, poolclass=sa.pool.NullPool)
        with killer.connect() as connection:
            killed = connection.execute(sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND backend_type = 'client backend'")).scalar()
        killer.dispose()
        assert killed >= 1
        response = client.get("/healthz")
        assert response.status_code == 200 and response.get_json()["database"] == "ok"
    finally:
        with served.app_context():
            _db.session.remove()
            _db.engine.dispose()
        _db.session.remove()
        _db.engine.dispose()  # the tests' app's connections were ended too
