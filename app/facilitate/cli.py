"""`flask polis import DIR [--slug S]`: import a Pol.is export as a new round."""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup
from flask_babel import force_locale, gettext

from app.errors import translate
from deliberation.errors import DomainError
from deliberation.models.round import PHASES

polis = AppGroup("polis", help="Pol.is interoperability.")


class ImportRefused(click.ClickException):
    """The export or the options cannot be imported: a usage problem, exit status 2. Shown
    as one line in the terminal's language, headed like the message."""

    exit_code = 2

    def __init__(self, message: str, heading: str) -> None:
        super().__init__(message)
        self.heading = heading

    def show(self, file: Any = None) -> None:
        click.echo(f"{self.heading}: {self.format_message()}", file=file, err=True)


def terminal_language() -> str:
    """Japanese when the terminal's locale is Japanese (LC_ALL, LC_MESSAGES, LANG), else
    English."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return "ja" if value.lower().startswith("ja") else "en"
    return "en"


def default_slug(directory: Path) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", directory.resolve().name.lower()).strip("-")
    return slug[:64] or "polis-import"


@polis.command("import")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option("--slug", default=None, help="Slug of the new round (default: the folder name).")
@click.option("--phase", type=click.Choice(PHASES), default="voting", show_default=True)
@click.option("--title", default=None, help="Title (default: the topic in summary.csv).")
def import_command(directory: Path, slug: str | None, phase: str, title: str | None) -> None:
    """Import a Pol.is export folder (votes.csv, comments.csv, ...) as a new round."""
    from deliberation.interop import polis_import  # NumPy and pyarrow: not for other commands

    started = time.perf_counter()
    try:
        export = polis_import.read_directory(directory)
        with click.progressbar(length=polis_import.rows_to_write(export),
                               label="Importing votes", file=sys.stderr,
                               show_eta=True) as bar:
            round_ = polis_import.import_export(
                export, directory=directory, slug=slug or default_slug(directory),
                phase=phase, title=title, progress=bar.update)
    except DomainError as error:
        with force_locale(terminal_language()):
            raise ImportRefused(translate(error), gettext("Import failed")) from None
    click.echo(f"imported round '{round_.slug}' in {time.perf_counter() - started:.1f} s")
