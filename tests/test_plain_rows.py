"""PlainRowsStatement: the same rows as Connection.execute, as tuples, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from deliberation.models import User
from deliberation.models._common import UTCDateTime
from deliberation.plain_rows import PlainRowsStatement

USERS = (
    sa.select(User.id, User.created_at, User.is_verified, User.display_name,
              sa.literal("fixed").label("fixed"))
    .where(User.role == "citizen",  # a value bound in the statement itself
           User.created_at <= sa.bindparam("now", type_=UTCDateTime()),
           User.id >= sa.bindparam("from_id"), User.id != sa.bindparam("from_id") + 10**6)
    .order_by(User.id)
)


def test_rows_are_those_of_connection_execute_as_tuples(db, make_user) -> None:  # noqa: ANN001
    first, second = make_user(is_verified=True), make_user()
    make_user(role="council")
    parameters = {"now": datetime.now(UTC) + timedelta(minutes=1), "from_id": first.id}
    connection = db.session.connection()

    rows = PlainRowsStatement(USERS).all(connection, parameters)

    assert rows == [tuple(row) for row in connection.execute(USERS, parameters)]
    assert [row[0] for row in rows] == [first.id, second.id]
    assert all(type(row) is tuple for row in rows)
    # Result processors ran: aware datetimes and booleans on SQLite too.
    assert rows[0][1].tzinfo is not None and rows[0][2] is True and rows[1][2] is False
    assert rows[0][3:] == (first.display_name, "fixed")


def test_bind_processors_run(db, make_user) -> None:  # noqa: ANN001
    user = make_user()
    statement = PlainRowsStatement(USERS)
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        # UTCDateTime's bind processor refuses naive datetimes, as in Connection.execute.
        statement.all(db.session.connection(), {"now": datetime(2030, 1, 1), "from_id": 0})
    db.session.rollback()
    before = user.created_at - timedelta(seconds=1)
    assert statement.all(db.session.connection(), {"now": before, "from_id": 0}) == []


def test_runs_in_the_sessions_transaction(db, make_user) -> None:  # noqa: ANN001
    kept = make_user()
    db.session.add(User(display_name="Not committed", role="citizen"))
    db.session.flush()
    parameters = {"now": datetime.now(UTC) + timedelta(minutes=1), "from_id": 0}
    statement = PlainRowsStatement(USERS)
    assert len(statement.all(db.session.connection(), parameters)) == 2
    db.session.rollback()
    assert [row[0] for row in statement.all(db.session.connection(), parameters)] == [kept.id]


def test_driver_errors_are_sqlalchemy_errors_and_lose_nothing(db, make_user) -> None:  # noqa: ANN001
    user = make_user()
    broken = PlainRowsStatement(sa.select(sa.column("x")).select_from(sa.table("no_such_table")))
    with pytest.raises(sa.exc.DBAPIError) as caught:
        broken.all(db.session.connection(), {})
    assert not caught.value.connection_invalidated
    assert "no_such_table" in str(caught.value)
    db.session.rollback()
    assert db.session.get(User, user.id) is not None  # the session goes on


def test_a_dead_connection_is_invalidated(app, db, make_user) -> None:  # noqa: ANN001
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs a database server whose backend can be terminated")
    make_user()
    connection = db.session.connection()
    backend = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    with db.engine.connect() as other:
        other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    parameters = {"now": datetime.now(UTC), "from_id": 0}
    with pytest.raises(sa.exc.DBAPIError) as caught:
        PlainRowsStatement(USERS).all(connection, parameters)
    assert caught.value.connection_invalidated
    db.session.rollback()
    assert len(PlainRowsStatement(USERS).all(db.session.connection(), parameters)) == 1


def test_a_missing_parameter_is_refused_before_the_database(db) -> None:  # noqa: ANN001
    with pytest.raises(sa.exc.InvalidRequestError, match="'from_id'"):
        PlainRowsStatement(USERS).all(db.session.connection(), {"now": datetime.now(UTC)})


def test_expanding_parameters_are_refused(db) -> None:  # noqa: ANN001
    statement = PlainRowsStatement(sa.select(User.id).where(User.id.in_([1, 2])))
    with pytest.raises(ValueError, match="expanding"):
        statement.all(db.session.connection(), {})
