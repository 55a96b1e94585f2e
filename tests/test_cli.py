"""CLI commands: users and the demo seed."""

from __future__ import annotations

import sqlalchemy as sa

from deliberation.models import User


def test_users_create_staff_account(runner, db):
    result = runner.invoke(args=["users", "create", "--email", "Staff@Example.org",
                                 "--role", "council", "--password", "long enough password"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "staff@example.org"))
    assert user.role == "council" and user.consent_version


def test_users_create_refuses_duplicates_and_short_passwords(runner, db, make_user):
    make_user(email="taken@example.org")
    result = runner.invoke(args=["users", "create", "--email", "taken@example.org",
                                 "--password", "long enough password"])
    assert result.exit_code == 1 and "already exists" in result.output
    result = runner.invoke(args=["users", "create", "--email", "new@example.org",
                                 "--password", "short"])
    assert result.exit_code == 1 and "at least 8 characters" in result.output


def test_users_set_role(runner, db, make_user):
    user = make_user(email="f@example.org")
    result = runner.invoke(args=["users", "set-role", "f@example.org", "facilitator"])
    assert result.exit_code == 0
    db.session.refresh(user)
    assert user.role == "facilitator"



def test_db_commands_are_flask_migrates(runner):
    """`flask db` is set up on first use: its options and subcommands are Flask-Migrate's,
    and it finds this repository's migrations (it exits with 1 where it finds none)."""
    listing = runner.invoke(args=["--help"])
    assert "Perform database migrations." in listing.output
    result = runner.invoke(args=["db", "--help"])
    assert result.exit_code == 0
    assert "--x-arg" in result.output and "upgrade" in result.output
    heads = runner.invoke(args=["db", "heads"])
    assert heads.exit_code == 0, heads.output
