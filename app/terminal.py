"""What the `flask` commands print: in the terminal's language, refusals as one line.

Staff run these commands on the town's server, so they read them in the language the
terminal is set to (``LANG``), like the web pages follow the browser's: their output, their
refusals and their ``--help`` (Hiroba's commands are made with :class:`TerminalCommand` and
:class:`TerminalGroup`, their texts are ``lazy_gettext`` strings).
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

import click
from flask import Flask, current_app, has_app_context
from flask.cli import AppGroup, ScriptInfo
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l

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


@contextmanager
def _help_language() -> Iterator[None]:
    """The terminal's language while a command's help is written. ``flask`` has loaded the
    application by then; a test runner may not have pushed its context yet."""
    if has_app_context():
        with force_locale(language()):
            yield
        return
    ctx = click.get_current_context(silent=True)
    info = ctx.find_object(ScriptInfo) if ctx is not None else None
    if info is None:
        yield
        return
    with info.load_app().app_context(), force_locale(language()):
        yield


def _columns(text: str) -> int:
    """How many columns a terminal gives the text (two for a Japanese character)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _extras(param: click.Parameter, ctx: click.Context) -> list[str]:
    """What click adds after an option's help (its default, "required"...), in words of the
    catalog rather than click's English."""
    extra = param.get_help_extra(ctx) if isinstance(param, click.Option) else {}
    items = []
    if "envvars" in extra:
        items.append(gettext("environment variable: %(names)s",
                             names=", ".join(extra["envvars"])))
    if "default" in extra:
        items.append(gettext("default: %(value)s", value=extra["default"]))
    if "range" in extra:
        items.append(extra["range"])
    if "required" in extra:
        items.append(gettext("required"))
    return items


def _name(param: click.Parameter | None) -> str:
    if param is None:
        return "?"
    if isinstance(param, click.Option):
        return param.opts[0]
    return param.human_readable_name


def _why(param: click.Parameter | None, value: Any) -> str:
    """What is wrong with a value click refused, from the parameter's type."""
    kind = param.type if param is not None else None
    if isinstance(kind, click.Choice):
        return gettext("Use one of: %(choices)s.", choices=", ".join(map(str, kind.choices)))
    if isinstance(kind, click.Path) and isinstance(value, str):
        if not os.path.exists(value):
            return gettext("“%(value)s” was not found.", value=value)
        if os.path.isdir(value) and not kind.dir_okay:
            return gettext("“%(value)s” is a folder: give a file.", value=value)
        if not os.path.isdir(value) and not kind.file_okay:
            return gettext("“%(value)s” is a file: give a folder.", value=value)
        return gettext("“%(value)s” cannot be read or written.", value=value)
    if isinstance(kind, click.types.IntParamType | click.types.FloatParamType):
        return gettext("Give a number in the allowed range.")
    return gettext("This value cannot be used.")


def _with_hint(message: str) -> str:
    return gettext("%(message)s See --help for how to use it.", message=message)


def _usage_refusal(error: click.UsageError, args: list[str]) -> Refused:
    """Click's own refusal of a command line (a wrong value, a missing or unknown option or
    command) as one line in the terminal's language."""
    with _help_language():
        if isinstance(error, click.MissingParameter):
            message = gettext("Give “%(name)s”.", name=_name(error.param))
        elif isinstance(error, click.BadParameter):
            message = gettext("“%(name)s” cannot take this value. %(why)s",
                              name=_name(error.param),
                              why=_why(error.param, _given(error.ctx, error.param, args)))
        elif isinstance(error, click.NoSuchOption):
            message = gettext("There is no option “%(name)s”.", name=error.option_name)
        else:
            message = gettext("The command line is not one this command understands.")
        return Refused(_with_hint(message), exit_code=error.exit_code)


def _given(ctx: click.Context | None, param: click.Parameter | None, args: list[str]) -> Any:
    """The text given for ``param`` on the command line, when it can be found: options'
    values are skipped when counting the arguments."""
    if ctx is None or param is None:
        return None
    params = ctx.command.params
    takes_value = {name for p in params if isinstance(p, click.Option)
                   and not p.is_flag and not p.count for name in p.opts}
    mine = param.opts if isinstance(param, click.Option) else []
    positional, i = [], 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            positional.extend(args[i + 1:])
            break
        if arg.startswith("-") and len(arg) > 1:
            name, equals, value = arg.partition("=")
            if name in mine:
                return value if equals else (args[i + 1] if i + 1 < len(args) else None)
            i += 2 if name in takes_value and not equals else 1
            continue
        positional.append(arg)
        i += 1
    arguments = [p for p in params if isinstance(p, click.Argument)]
    if isinstance(param, click.Option) or param not in arguments:
        return None
    index = arguments.index(param)
    return positional[index] if index < len(positional) else None


class TerminalCommand(click.Command):
    """A command whose help (its description, options, headings) and whose refusals of a
    mistyped command line read in the terminal's language."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        given = list(args)
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            raise _usage_refusal(error, given) from None

    def get_help(self, ctx: click.Context) -> str:
        with _help_language():
            return super().get_help(ctx)

    def get_usage(self, ctx: click.Context) -> str:
        with _help_language():
            return super().get_usage(ctx)

    def get_short_help_str(self, limit: int = 45) -> str:
        """The line in a list of commands. Click shortens a long help at a space, which a
        Japanese sentence does not have, and counts characters where a terminal gives a
        Japanese one two columns: the bracketed parts go first, then all but the first
        sentence."""
        with _help_language():
            text = super().get_short_help_str(10_000)
            if _columns(text) > limit:
                text = re.sub(r"（[^）]*）", "", text)
            if _columns(text) > limit and "。" in text:
                text = text[:text.index("。") + 1]
            return text if _columns(text) <= limit else super().get_short_help_str(limit)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = _l("Show this message and exit.")
        return option

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, " ".join(self.collect_usage_pieces(ctx)),
                              gettext("Usage: "))

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for param in self.get_params(ctx):
            if not isinstance(param, click.Option) or param.hidden:
                continue
            # Click keeps an option's help as a plain string (it tidies it when the option
            # is made, before any language is known): looked up in the catalog again here.
            text = gettext(str(param.help)) if param.help else ""
            extras = _extras(param, ctx)
            if extras:
                text = f"{text}  [{'; '.join(extras)}]" if text else f"[{'; '.join(extras)}]"
            rows.append((param.get_help_spec(ctx), text))
        if rows:
            with formatter.section(gettext("Options")):
                formatter.write_dl(rows)


class TerminalGroup(TerminalCommand, AppGroup):
    """A group of commands (``flask users ...``) whose help, and its commands' help, reads
    in the terminal's language."""

    command_class = TerminalCommand

    def resolve_command(self, ctx: click.Context, args: list[str]
                        ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as error:
            if args and not args[0].startswith("-"):
                with _help_language():
                    message = gettext("There is no command “%(name)s”.", name=args[0])
                    raise Refused(_with_hint(message), exit_code=error.exit_code) from None
            raise _usage_refusal(error, args) from None

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_options(ctx, formatter)
        rows = [(name, command.get_short_help_str(formatter.width - 6 - len(name)))
                for name in self.list_commands(ctx)
                if (command := self.get_command(ctx, name)) is not None and not command.hidden]
        if rows:
            with formatter.section(gettext("Commands")):
                formatter.write_dl(rows)
