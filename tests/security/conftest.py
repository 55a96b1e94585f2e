"""Fixtures for security tests: an app with rate limits on, per-role clients, table counts."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.extensions import limiter
from deliberation.database import db as _db
from tests import factories
from tests.conftest import IsolatedClient


@pytest.fixture()
def limited_app(app: Flask, db) -> Iterator[Flask]:
    """A second app on the same database with Flask-Limiter switched on (small limits).

    The limiter is a module-level singleton: it is switched off and emptied afterwards so
    the rest of the suite runs without limits.
    """
    limited = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "RATELIMIT_ENABLED": True,
        "LOGIN_RATE_LIMIT": "3 per minute",
        "REGISTER_RATE_LIMIT": "2 per minute",
        "POST_RATE_LIMIT": "2 per minute",
        "VOTE_RATE_LIMIT": "3 per minute",
    })
    limited.test_client_class = IsolatedClient
    limiter.reset()
    try:
        yield limited
    finally:
        limiter.reset()
        limiter.enabled = False
        with limited.app_context():
            _db.session.remove()
            _db.engine.dispose()


_quick = iter(range(1, 10**9))


def quick_user(role: str = "citizen", **kwargs) -> factories.User:
    """A user without a password; for tests that never log in by form."""
    n = next(_quick)
    values = {"email": f"quick{n}@example.org", "display_name": f"Quick {n}",
              "kind": "resident", "consent_version": "test", **kwargs}
    user = factories.User(role=role, **values)
    _db.session.add(user)
    _db.session.commit()
    return user


def client_for(app: Flask, user: factories.User | None) -> FlaskClient:
    """A fresh client, logged in as ``user`` (anonymous for None)."""
    client = app.test_client()
    if user is not None:
        factories.log_in(client, user)
    return client


@pytest.fixture()
def role_client(app: Flask, db) -> Callable[[str], FlaskClient]:
    """``role_client("facilitator")`` -> a client logged in as a new user of that role."""

    def make(role: str) -> FlaskClient:
        if role == "anonymous":
            return client_for(app, None)
        return client_for(app, quick_user(role))

    return make


def table_counts() -> dict[str, int]:
    """Row count of every table (to prove that a refused request changed nothing)."""
    with _db.engine.connect() as connection:
        return dict(connection.execute(_count_every_table()).mappings().one())


@functools.cache
def _count_every_table() -> sa.Select:
    """One statement with a count per table: the tests call this around every request, and
    one round trip costs a fraction of one per table."""
    return sa.select(*(sa.select(sa.func.count()).select_from(table).scalar_subquery()
                       .label(table.name) for table in _db.metadata.sorted_tables))
