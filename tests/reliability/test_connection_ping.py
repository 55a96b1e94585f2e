"""Pooled connections are pinged after sitting idle, not before every use (issue 7)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from deliberation import connection_ping
from deliberation.connection_ping import ping_connections_idle_for
from deliberation.database import db as _db


@pytest.fixture()
def new_engine(database_url: str):  # noqa: ANN201
    engines: list[sa.Engine] = []

    def make(idle_seconds: float) -> sa.Engine:
        engine = sa.create_engine(database_url, pool_size=1, max_overflow=0)
        ping_connections_idle_for(engine, idle_seconds)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.dispose()


def _count_pings(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch, fail: int = 0) -> list:
    pings: list = []
    real_ping = engine.dialect.do_ping

    def ping(dbapi_connection):  # noqa: ANN001,ANN202
        pings.append(dbapi_connection)
        if len(pings) <= fail:
            raise RuntimeError("server closed the connection unexpectedly")
        return real_ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", ping)
    return pings


def _use(engine: sa.Engine) -> object:
    with engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT 1")) == 1
        return connection.connection.dbapi_connection


def test_idle_connection_is_pinged_and_busy_one_is_not(new_engine, monkeypatch) -> None:  # noqa: ANN001
    busy = new_engine(3600)
    pings = _count_pings(busy, monkeypatch)
    _use(busy)  # a new connection: no ping
    _use(busy)  # reused at once: no ping
    assert pings == []
    idle = new_engine(0)  # every reuse counts as idle
    pings = _count_pings(idle, monkeypatch)
    _use(idle)
    assert pings == []
    reused = _use(idle)
    assert pings == [reused]


def test_failed_ping_replaces_the_connection(new_engine, monkeypatch) -> None:  # noqa: ANN001
    engine = new_engine(0)
    pings = _count_pings(engine, monkeypatch, fail=1)
    first = _use(engine)
    second = _use(engine)  # the ping fails: the pool connects again instead of failing
    assert len(pings) == 1 and second is not first


def test_app_survives_a_database_restart(app: Flask, client, db, monkeypatch) -> None:  # noqa: ANN001
    """PostgreSQL: the server ends every pooled connection (as a restart does); the next
    request after an idle second still succeeds."""
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
    later = connection_ping._clock() + app.config["DATABASE_PING_IDLE_SECONDS"] + 1
    monkeypatch.setattr(connection_ping, "_clock", lambda: later)
    response = client.get("/healthz")
    _db.engine.dispose()  # other killed connections may still be pooled
    assert response.status_code == 200 and response.get_json()["database"] == "ok"
