"""File downloads: one Content-Type and Content-Disposition for every export, and one way
to write a CSV file for staff who open it in Excel.

A staff CSV (the council's agenda, the audit log, the engagement figures) is UTF-8 with a
byte order mark, so that Excel reads Japanese; its headers and cells are words in the
reader's language (``?lang=en`` or ``?lang=ja`` asks for the other one), never codes;
times are Japan time to the minute; every cell goes through :mod:`deliberation.csvfile`,
which keeps a spreadsheet from running a formula planted in a text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from flask import Response, current_app, request
from flask_babel import force_locale, get_locale

from deliberation import csvfile
from deliberation.models import TOKYO

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


def attachment(body: str | bytes, filename: str, content_type: str) -> Response:
    """``body`` as a download named ``filename`` (ASCII: slugs and fixed names only)."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    response = Response(data, content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def csv_attachment(text: str, filename: str) -> Response:
    return attachment(text, filename, CSV_CONTENT_TYPE)


@contextmanager
def requested_language() -> Iterator[None]:
    """Within it, gettext answers in the language asked with ``?lang=`` (a link for the
    other language's file); an unknown language leaves the reader's own."""
    lang = request.args.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        with force_locale(lang):
            yield
    else:
        yield


def in_language(stem: str, extension: str) -> str:
    """A file name that says the language of the file's words (call it within
    ``requested_language``): a clerk who takes both gets ``agenda-ja.csv`` and
    ``agenda-en.csv``, not ``agenda.csv`` and ``agenda (1).csv``."""
    return f"{stem}-{get_locale()}.{extension}"


def local_time(value: datetime | str | None) -> str:
    """A UTC time (or its ISO text) as Japan time to the minute: ``2026-04-01 09:30``."""
    if not value:
        return ""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M")


def percent(share: float | None) -> str:
    """A fraction as a percentage with one decimal: ``0.8646`` is ``86.5%``."""
    return "" if share is None else f"{share * 100:.1f}%"


def excel_csv(columns: Sequence[tuple[str, Any]], rows: Iterable[Mapping[str, Any]]) -> str:
    """CSV for Excel: a line of headers (``columns`` are ``(key, label)`` pairs, labels in
    the current language), then each row's cells in the columns' order."""
    return csvfile.write(([row[key] for key, _label in columns] for row in rows),
                         header=[str(label) for _key, label in columns], bom=True)


def excel_table(rows: Iterable[Sequence[Any]]) -> str:
    """CSV for Excel of rows already in words, for a file made of several small tables
    (each with its own header line, separated by an empty line)."""
    return csvfile.write(rows, bom=True)
