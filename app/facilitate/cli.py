"""`flask polis import DIR [--slug S]`: import a Pol.is export as a new round."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import click
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from app.errors import translate
from app.i18n import ngettext
from app.terminal import Refused, TerminalGroup, in_terminal_language
from deliberation.errors import DomainError
from deliberation.models.round import PHASES

polis = TerminalGroup("polis", help=_l("Pol.is interoperability."))


def default_slug(directory: Path) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", directory.resolve().name.lower()).strip("-")
    return slug[:64] or "polis-import"


@polis.command("import", help=_l(
    "Import a Pol.is export folder (votes.csv, comments.csv, ...) as a new round."))
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option("--slug", default=None, help=_l("Slug of the new round (default: the folder name)."))
@click.option("--phase", type=click.Choice(PHASES), default="voting", show_default=True,
              help=_l("The phase the new round starts in."))
@click.option("--title", default=None, help=_l("Title (default: the topic in summary.csv)."))
@in_terminal_language
def import_command(directory: Path, slug: str | None, phase: str, title: str | None) -> None:
    from deliberation.interop import polis_import  # NumPy and pyarrow: not for other commands

    started = time.perf_counter()
    slug = slug or default_slug(directory)
    try:
        polis_import.check_new_round(slug, phase)
        export = polis_import.read_directory(directory)
        with click.progressbar(length=polis_import.rows_to_write(export),
                               label=gettext("Importing votes"), file=sys.stderr,
                               show_eta=True) as bar:
            round_ = polis_import.import_export(
                export, directory=directory, slug=slug,
                phase=phase, title=title, progress=bar.update)
    except DomainError as error:
        # exit status 2: the export or the options cannot be imported (a usage problem)
        raise Refused(translate(error), gettext("Import failed"), exit_code=2) from None
    click.echo(gettext("Imported round “%(slug)s” in %(seconds).1f s.", slug=round_.slug,
                       seconds=time.perf_counter() - started))
    pending = sum(1 for comment in export.comments
                  if polis_import.STATUS[comment.moderated] == "pending")
    if pending:
        click.echo(ngettext(
            "%(num)d statement that nobody had moderated in Pol.is waits for a facilitator's "
            "approval on the round's moderation page.",
            "%(num)d statements that nobody had moderated in Pol.is wait for a facilitator's "
            "approval on the round's moderation page.", pending))
