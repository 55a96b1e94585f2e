"""Row ids as they arrive from outside (URL paths, form fields, JSON bodies).

Every id column is an ``INTEGER``: a value beyond 2**31 - 1 cannot name a row, and handing
it to the database fails there (SQLite cannot bind it, PostgreSQL refuses the parameter) as
a server error instead of a "not found". ``parse_id`` is the one rule for what an id may
look like: a positive whole number up to ``MAX_ID``, written with ASCII digits only.
"""

from __future__ import annotations

import re
from typing import Any

MAX_ID = 2**31 - 1
# No sign, no leading zero, no spaces, at most ten ASCII digits (``str.isdigit`` and
# ``int()`` also accept other scripts' digits, e.g. "١٢" or "²").
ID_PATTERN = r"[1-9][0-9]{0,9}"
_ID_RE = re.compile(ID_PATTERN)


def parse_id(value: Any) -> int | None:
    """The id ``value`` names, or None when it cannot be the id of a row.

    Accepts an ``int`` (not a ``bool``: ``True`` is not an id) or a string of ASCII digits;
    refuses floats (``1e30``, ``Infinity``), signs, blanks and anything out of range.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _ID_RE.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if 1 <= number <= MAX_ID else None


def coerce_id(value: Any) -> int:
    """``parse_id`` for WTForms' ``coerce``: a ValueError makes the field invalid."""
    parsed = parse_id(value)
    if parsed is None:
        raise ValueError("not an id")
    return parsed
