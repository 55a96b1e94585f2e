"""What the `flask` commands print: in the terminal's language, refusals as one line.

Staff run these commands on the town's server, so they read them in the language the
terminal is set to (``LANG``), like the web pages follow the browser's.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar, cast

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo
from flask_babel import force_locale, gettext

from app.errors import translate
from deliberation.errors import DomainError

F = TypeVar("F", bound=Callable[..., Any])


def language() -> str:
    """The terminal's language when its locale (LC_ALL, LC_MESSAGES or LANG, the first one
    set) names one the site speaks, else the site's default: a server left at ``C.UTF-8``
    or with no locale at all answers in Japanese, as the town's pages do."""
    speaks = current_app.config["LANGUAGES"]
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            spoken = value.split(".")[0].split("_")[0].lower()
            return spoken if spoken in speaks else current_app.config["BABEL_DEFAULT_LOCALE"]
    return current_app.config["BABEL_DEFAULT_LOCALE"]


class Refused(click.ClickException):
    """The command refuses, stores nothing and ends with ``exit_code``; shown as one line
    headed like the message (click's own heading is always English)."""

    def __init__(self, message: str, heading: str | None = None, exit_code: int = 1) -> None:
        super().__init__(message)
        self.heading = heading or gettext("Error")
        self.exit_code = exit_code

    @classmethod
    def because(cls, error: DomainError, exit_code: int = 1) -> Refused:
        """The domain's refusal in the terminal's language."""
        return cls(translate(error), exit_code=exit_code)

    def show(self, file: Any = None) -> None:
        click.echo(f"{self.heading}: {self.format_message()}", file=file, err=True)


def in_terminal_language(command: F) -> F:
    """Run a command's body in the terminal's language (its output, prompts, refusals)."""
    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        with force_locale(language()):
            return command(*args, **kwargs)

    return cast(F, run)


def running_app() -> Flask:
    """The application object itself, for threads and servers that outlive the command's
    application context (``current_app`` is bound to that context)."""
    info = click.get_current_context().find_object(ScriptInfo)
    assert info is not None, "a flask command runs with flask's ScriptInfo"
    return info.load_app()
