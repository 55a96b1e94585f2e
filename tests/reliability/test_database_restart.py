"""A database restart ends every pooled connection; the next request still succeeds
(``pool_pre_ping`` replaces a dead connection on checkout)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from deliberation.database import db as _db


def test_app_survives_a_database_restart(app: Flask, client, db) -> None:
    """PostgreSQL: the server ends every pooled connection (as a restart does); the next
    request still succeeds."""
    if _db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    assert client.get("/healthz").status_code == 200  # leaves a connection in the pool
    _db.session.remove()
    killer = sa.create_engine(_db.engine.url, poolclass=sa.pool.NullPool)
    with killer.connect() as connection:
        killed = connection.execute(sa.text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'")).scalar()
    killer.dispose()
    assert killed >= 1
    response = client.get("/healthz")
    _db.engine.dispose()  # other killed connections may still be pooled
    assert response.status_code == 200 and response.get_json()["database"] == "ok"
