"""`flask db`: Flask-Migrate's commands, set up when they are used.

Importing Flask-Migrate loads Alembic (about 0.2 s of CPU), which no other command and no
web process needs; so the factory registers this stand-in, which sets Flask-Migrate up and
hands over to its command group once `flask db ...` is actually run.
"""

from __future__ import annotations

from typing import Any

import click
from flask import Flask

from deliberation.database import db


class MigrationCommands(click.Command):
    """Stands for Flask-Migrate's ``db`` group in ``flask --help``; running it parses the
    arguments with that group (its options, subcommands and help are all Flask-Migrate's)."""

    def __init__(self, app: Flask, directory: str) -> None:
        super().__init__("db", help="Perform database migrations.")
        self.app = app
        self.directory = directory

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        from flask_migrate import Migrate
        from flask_migrate.cli import db as commands

        Migrate(self.app, db, directory=self.directory, render_as_batch=True,
                compare_type=True)
        return commands.make_context(info_name, args, parent=parent, **extra)


def init_app(app: Flask, directory: str) -> None:
    app.cli.add_command(MigrationCommands(app, directory))
