"""The accessibility statement (JIS X 8341-3:2016 style), generated from the e2e run."""

from __future__ import annotations

from pathlib import Path

import click
from babel.lists import format_list
from flask import Blueprint, current_app, render_template
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from app.a11y import statement as statements
from app.terminal import TerminalCommand, TerminalGroup

bp = Blueprint("a11y", __name__, cli_group="a11y")
# `flask a11y ...`, with its help in the terminal's language like the other commands'.
bp.cli = TerminalGroup(help=_l("The accessibility statement."))

# The languages and ways of writing a page was tested in (``statement.load``), in words.
LANGUAGE_LABELS = {
    "ja": _l("Japanese"),
    "en": _l("English"),
    "ja-furigana": _l("Japanese with furigana"),
    "ja-easy": _l("Easy Japanese"),
}


@bp.route("/accessibility")
def statement_page() -> str:
    path = Path(current_app.config.get("A11Y_STATEMENT") or statements.STATEMENT)
    return render_template("a11y/statement.html", statement=statements.load(path),
                           impacts=statements.IMPACTS, languages_in_words=languages_in_words)


def languages_in_words(languages: list[str]) -> str:
    """``["en", "ja", "ja-easy"]`` as the reader says it: 英語、日本語、やさしい日本語."""
    return format_list([str(LANGUAGE_LABELS.get(code, code)) for code in languages],
                       locale=get_locale())


@bp.cli.command("statement", cls=TerminalCommand,
                 help=_l("Generate the accessibility statement from an e2e run's axe results."))
@click.option("--results", "results_path", type=click.Path(path_type=Path),
              default=Path("test-artifacts/a11y-results.json"), show_default=True,
              help=_l("axe results written by the e2e run (HIROBA_A11Y_RESULTS)"))
@click.option("--output", type=click.Path(path_type=Path), default=statements.STATEMENT,
              show_default=True,
              help=_l("The statement file the page shows."))
def statement_command(results_path: Path, output: Path) -> None:
    try:
        data = statements.write(results_path, output)
    except statements.ResultsError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{output}: {len(data['pages'])} pages, {data['runs']} axe runs, "
               f"{data['pages_meeting']} without serious or critical violations, "
               f"tested {data['tested_on']}")
