"""Shared column helpers for the models."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

# Times are stored in UTC and shown, entered and counted by day in the town's time.
TOKYO = ZoneInfo("Asia/Tokyo")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite stores naive values)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store aware UTC datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def equals_any(column: str, values: Iterable[str | int]) -> str:
    """The same rule as :func:`one_of`, spelt ``column = a OR column = b ...``.

    For tables that take a million rows in one load (votes, vote events): SQLite evaluates
    ``IN (...)`` of a CHECK by building a temporary index for every row it inserts, which
    costs a vote event's two checks several times the rest of its insert; the OR form costs
    little (figures in bench/README.md)."""
    return " OR ".join(f"{column} = {v!r}" if isinstance(v, str) else f"{column} = {v}"
                       for v in values)


def one_of(column: str, values: Iterable[str]) -> str:
    """SQL for a check constraint that a column holds one of ``values``."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"
