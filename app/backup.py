"""`flask backup` and `flask restore`: consistent SQLite copies with the online backup API.

PostgreSQL deployments use the database's own tools (see README, Backups):
    pg_dump --format=custom --file=hiroba.dump "$DATABASE_URL"
    pg_restore --clean --if-exists --dbname="$DATABASE_URL" hiroba.dump
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.engine import make_url

from app import private_files
from app.terminal import Refused, TerminalCommand, in_terminal_language
from deliberation.database import db

PG_DUMP = 'pg_dump --format=custom --file=hiroba.dump "$DATABASE_URL"'
PG_RESTORE = 'pg_restore --clean --if-exists --dbname="$DATABASE_URL" hiroba.dump'
REQUIRED_TABLES = {"users", "rounds", "participants", "proposals", "votes"}


def sqlite_path() -> Path:
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite":
        raise Refused(gettext(
            "This deployment uses PostgreSQL: back it up with pg_dump, e.g.\n  %(dump)s\n"
            "and restore with\n  %(restore)s\n(see README, Backups).",
            dump=PG_DUMP, restore=PG_RESTORE))
    if not url.database or url.database == ":memory:":
        raise Refused(gettext("The database is in memory; there is nothing to back up."))
    return Path(url.database)


def _copy(source: Path, target: Path) -> None:
    """Copy a live database page by page (consistent even while others write)."""
    src = sqlite3.connect(str(source))
    try:
        dst = sqlite3.connect(str(target))
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def check_backup_file(path: Path) -> None:
    """Refuse anything that is not an intact Hiroba SQLite database."""
    if not path.is_file():
        raise Refused(gettext("%(path)s does not exist.", path=str(path)))
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            status = connection.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {row[0] for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise Refused(gettext("%(path)s is not a SQLite database (%(error)s).", path=str(path),
                              error=str(error))) from None
    if status != "ok":
        raise Refused(gettext("%(path)s is damaged: %(status)s", path=str(path), status=status))
    missing = REQUIRED_TABLES - tables
    if missing:
        raise Refused(gettext("%(path)s is not a Hiroba backup (missing tables: %(tables)s).",
                              path=str(path), tables=", ".join(sorted(missing))))


@click.command("backup", cls=TerminalCommand, help=_l(
    "Write a consistent copy of the SQLite database (PostgreSQL: use pg_dump)."))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=_l("Backup file (default: instance/backups/hiroba-<UTC time>.sqlite3)."))
@in_terminal_language
def backup_command(output: Path | None) -> None:
    source = sqlite_path()
    if output is None:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        output = Path(current_app.instance_path) / "backups" / f"hiroba-{stamp}.sqlite3"
    if output.exists():
        raise Refused(gettext("%(path)s exists already; choose another file.",
                              path=str(output)))
    private_files.make_directory(output.parent)
    private_files.create_empty(output)  # mode 0600 before the first page is copied
    _copy(source, output)
    check_backup_file(output)
    click.echo(gettext("Backup written to %(path)s.", path=str(output)))


@click.command("restore", cls=TerminalCommand, help=_l(
    "Replace the SQLite database with a backup (SQLite only; stop the app first)."))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help=_l("Really replace the current database."))
@in_terminal_language
def restore_command(file: Path, yes: bool) -> None:
    target = sqlite_path()
    check_backup_file(file)
    if not yes:
        raise Refused(gettext(
            "This replaces ALL data in %(target)s with %(file)s. Stop the app, then run again "
            "with --yes.", target=str(target), file=str(file)))
    db.session.remove()
    db.engine.dispose()
    _copy(file, target)
    click.echo(gettext("Restored %(target)s from %(file)s.", target=str(target),
                       file=str(file)))


def init_app(app: Flask) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
