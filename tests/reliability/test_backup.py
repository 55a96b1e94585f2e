"""`flask backup` / `flask restore` round trip (SQLite); a clear pg_dump hint on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from deliberation.database import db as _db
from deliberation.models import Proposal, Round, Vote
from tests import factories


def _sqlite_only() -> None:
    if _db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")


def test_backup_and_restore_round_trip(runner, db, tmp_path: Path) -> None:
    _sqlite_only()
    round_ = factories.make_round(title="Before backup", phase="voting")
    proposal = factories.make_proposal(round_, "Kept by the backup")
    participant = factories.make_participant(round_, factories.make_user())
    factories.add_vote(participant, proposal, 1)
    target = tmp_path / "copy.sqlite3"
    result = runner.invoke(args=["backup", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert target.is_file()

    # Changes after the backup ...
    factories.make_round(title="After backup")
    db.session.execute(sa.delete(Vote))
    db.session.commit()
    refused = runner.invoke(args=["restore", str(target)])
    assert refused.exit_code != 0 and "--yes" in refused.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Round)) == 2

    # ... are undone by the restore.
    db.session.remove()
    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    titles = db.session.scalars(sa.select(Round.title)).all()
    assert titles == ["Before backup"]
    assert db.session.scalar(sa.select(Proposal.text)) == "Kept by the backup"
    assert db.session.scalar(sa.select(Vote.value)) == 1


def test_backup_refuses_to_overwrite(runner, db, tmp_path: Path) -> None:
    _sqlite_only()
    target = tmp_path / "exists.sqlite3"
    target.write_text("keep me")
    result = runner.invoke(args=["backup", "--output", str(target)])
    assert result.exit_code != 0 and "exists already" in result.output
    assert target.read_text() == "keep me"


@pytest.mark.parametrize("content,message", [
    (b"not a database at all" * 50, "not a SQLite database"),
    (None, "does not exist"),
])
def test_restore_refuses_bad_files(runner, db, tmp_path: Path, content, message) -> None:
    _sqlite_only()
    factories.make_round(title="Still here")
    bad = tmp_path / "bad.sqlite3"
    if content is not None:
        bad.write_bytes(content)
    result = runner.invoke(args=["restore", str(bad), "--yes"])
    assert result.exit_code != 0 and message in result.output
    assert db.session.scalar(sa.select(Round.title)) == "Still here"


def test_restore_refuses_a_foreign_sqlite_file(runner, db, tmp_path: Path) -> None:
    _sqlite_only()
    import sqlite3

    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    result = runner.invoke(args=["restore", str(other), "--yes"])
    assert result.exit_code != 0 and "not a Hiroba backup" in result.output


def test_postgresql_points_to_pg_dump(runner, db, tmp_path: Path) -> None:
    if _db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    result = runner.invoke(args=["backup", "--output", str(tmp_path / "x")])
    assert result.exit_code != 0 and "pg_dump" in result.output
    result = runner.invoke(args=["restore", str(tmp_path / "x"), "--yes"])
    assert result.exit_code != 0 and "pg_dump" in result.output
