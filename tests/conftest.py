"""Shared fixtures: app, db, client, runner, login_as, and model factories.

The suite runs against SQLite by default, and against PostgreSQL when
TEST_DATABASE_URL is set (`make test` does both).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import jinja2
import jinja2.bccache
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from app import create_app
from deliberation.database import db as _db
from tests import factories

REPO = Path(__file__).resolve().parents[1]
POLIS_DATASETS = REPO.parent / "shared" / "datasets" / "polis"


def polis_dataset(name: str) -> Path:
    """A shared Pol.is export; skipped where shared/ is absent, except in CI."""
    path = POLIS_DATASETS / name
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing; CI must run with shared/ beside the repo")
        pytest.skip(f"{path} not available")
    return path


class IsolatedClient(FlaskClient):
    """A test client whose every request gets its own app context, as on a server.

    The ``db`` fixture keeps an app context open for the test body, and a request reuses the
    app context it finds: without this, requests would share ``g`` (the logged-in user, the
    selected locale) and the database session with the test and with each other. A redirect
    that the client follows is opened through here too, so it gets a context of its own.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


class SharedTemplateCode(jinja2.BytecodeCache):
    """Compiled templates kept in memory for every app this test process creates.

    The suite creates apps by the dozen (rate-limited, production-configured, the browser
    tests' servers), and each new app would compile from source every template it renders.
    Jinja checks each cached entry against the template's source, so a changed template is
    compiled again."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


Flask.jinja_options = {**Flask.jinja_options, "bytecode_cache": SharedTemplateCode()}


def compile_catalogs() -> None:
    """Compile the translation catalogs so tests see the real Japanese and English text."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po_path in (REPO / "app" / "translations").glob("*/LC_MESSAGES/messages.po"):
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        # Written aside and renamed: the test processes that `make test` runs side by side
        # never read a half-written catalog.
        with tempfile.NamedTemporaryFile(dir=po_path.parent, suffix=".mo.tmp",
                                         delete=False) as mo_file:
            write_mo(mo_file, catalog)
        os.replace(mo_file.name, po_path.with_suffix(".mo"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database-tests-only", action="store_true",
        help="run only the tests that use the database under test (the database_url "
             "fixture); make test runs them on SQLite and on PostgreSQL")
    parser.addoption(
        "--without-database-tests", action="store_true",
        help="run only the tests that do not use the database under test, and the browser "
             "tests (their server has a database of its own); make test runs these once")
    parser.addoption(
        "--shard", metavar="K/N", type=_shard,
        help="run the K-th of N interleaved parts of the selected tests (1 <= K <= N); "
             "make test runs each database's tests as parts side by side")


def _shard(value: str) -> tuple[int, int]:
    k, _, n = value.partition("/")
    if not (k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
        raise pytest.UsageError(f"--shard wants K/N with 1 <= K <= N, not {value!r}")
    return int(k), int(n)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    database_only = config.getoption("--database-tests-only")
    without_database = config.getoption("--without-database-tests")
    shard = config.getoption("--shard")
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        if database_only or without_database:
            uses_database = "database_url" in getattr(item, "fixturenames", ())
            wanted = (uses_database if database_only
                      else not uses_database or item.get_closest_marker("e2e") is not None)
            if not wanted:
                dropped.append(item)
                continue
        keep.append(item)
    if shard:
        # Every N-th test rather than every N-th file: the heavy tests come in parametrized
        # runs and whole heavy files, so interleaving shares them out and the parts take
        # about as long as each other. No fixture of these tests is wider than a function
        # (except the app), so a file split across parts sets nothing up twice.
        k, n = shard
        dropped += [item for i, item in enumerate(keep) if i % n != k - 1]
        keep = [item for i, item in enumerate(keep) if i % n == k - 1]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    os.environ.pop("DATABASE_URL", None)
    compile_catalogs()
    application = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})
    application.test_client_class = IsolatedClient
    with application.app_context():
        _db.drop_all()
        _db.create_all()
    yield application
    with application.app_context():
        _db.session.remove()
        _db.drop_all()
        _db.engine.dispose()


@pytest.fixture()
def db(app: Flask) -> Iterator:
    """The database, emptied after each test."""
    with app.app_context():
        yield _db
        _db.session.rollback()
        _db.session.remove()
        _truncate_all()


def _truncate_all() -> None:
    """Empty every table and restart the ids at 1, as on a fresh database.

    On PostgreSQL, most tests leave a handful of rows: DELETE and setval() in one round trip
    then cost a fifth of TRUNCATE, which replaces the files of every table and index. After
    a test that imported a real Pol.is export (hundreds of thousands of rows), TRUNCATE is
    the cheap one: DELETE would write every row to the log and leave them dead in the
    table, to be read past by the next tests until autovacuum comes by."""
    tables = list(reversed(_db.metadata.sorted_tables))  # rows that others point to last
    if _db.engine.dialect.name == "sqlite":
        # SQLite ignores PRAGMA foreign_keys inside a transaction, so both switches run
        # outside the one that deletes: otherwise the connection would go back to the pool
        # with its foreign keys off, and the next tests would run unchecked.
        with _db.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            for table in tables:
                connection.execute(table.delete())
            connection.commit()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
        return
    with _db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            if _has_many_rows(connection, tables):
                names = ", ".join(table.name for table in tables)
                connection.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY")
                return
            statements = [f"DELETE FROM {table.name}" for table in tables]
            sequences = [f"setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                         "1, false)" for table in tables for column in _serial_columns(table)]
            statements.append("SELECT " + ", ".join(sequences))
            connection.exec_driver_sql("; ".join(statements))


MANY_ROWS = 5000


def _has_many_rows(connection: sa.Connection, tables: list[sa.Table]) -> bool:
    """Whether any table holds more than MANY_ROWS rows (each one read at most that far)."""
    probes = " UNION ALL ".join(
        f"SELECT 1 FROM (SELECT 1 FROM {table.name} LIMIT 1 OFFSET {MANY_ROWS}) AS t"
        for table in tables)
    return connection.exec_driver_sql(f"SELECT EXISTS ({probes})").scalar()


def _serial_columns(table: sa.Table) -> list[sa.Column]:
    """The integer primary key the database numbers, if the table has one."""
    return [column for column in table.primary_key.columns
            if column is table.autoincrement_column]


@pytest.fixture()
def client(app: Flask, db) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def runner(app: Flask, db) -> FlaskCliRunner:
    # The commands speak the terminal's language: English here unless a test sets LANG.
    return app.test_cli_runner(env={"LC_ALL": None, "LC_MESSAGES": None,
                                    "LANG": "en_US.UTF-8"})


@pytest.fixture()
def make_user(db) -> Callable[..., factories.User]:
    return factories.make_user


@pytest.fixture()
def make_round(db) -> Callable:
    return factories.make_round


@pytest.fixture()
def login_as(client: FlaskClient, db) -> Callable:
    """Log the test client in as a new user of the given role; returns the user."""

    def login(role: str = "citizen", **kwargs) -> factories.User:
        user = factories.make_user(role=role, **kwargs)
        factories.log_in(client, user)
        return user

    return login


@pytest.fixture()
def csrf_app(app: Flask) -> Iterator[Flask]:
    """Switch CSRF protection on for one test."""
    app.config["WTF_CSRF_ENABLED"] = True
    yield app
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture()
def votes_table_refuses_inserts(db):
    """A database that fails the import half-way: after participants, proposals and the
    vote history are written, every insert into ``votes`` is refused."""
    if db.engine.dialect.name == "postgresql":
        statements = [
            "CREATE FUNCTION refuse_vote() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'disk full'; END $$",
            "CREATE TRIGGER refuse_vote BEFORE INSERT ON votes "
            "FOR EACH ROW EXECUTE FUNCTION refuse_vote()",
            # Storage that fails fails for every session, also one whose bulk load skips
            # the ordinary triggers (session_replication_role = replica).
            "ALTER TABLE votes ENABLE ALWAYS TRIGGER refuse_vote",
        ]
        cleanup = ["DROP TRIGGER refuse_vote ON votes", "DROP FUNCTION refuse_vote()"]
    else:
        statements = ["CREATE TRIGGER refuse_vote BEFORE INSERT ON votes "
                      "BEGIN SELECT RAISE(ABORT, 'disk full'); END"]
        cleanup = ["DROP TRIGGER refuse_vote"]
    for statement in statements:
        db.session.execute(sa.text(statement))
    db.session.commit()
    yield
    for statement in cleanup:
        db.session.execute(sa.text(statement))
    db.session.commit()
