"""Writing many rows at once, column by column, inside the session's transaction.

A Pol.is import writes a million vote events; through the ORM, or even a Core executemany
that runs every value through its column type, Python work per value would dominate. Here
the columns arrive as NumPy arrays and go to the driver without a Python object per value
where the database allows it: PostgreSQL through ``COPY ... FROM STDIN``, in its binary
format built as one NumPy record array per batch when every column has a fixed width
(psycopg's copy API), other databases through an ``executemany`` of one prepared
``INSERT`` in batches, timestamps formatted in one vectorised step."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np
import sqlalchemy as sa

from deliberation.database import db

BATCH = 50_000


@contextmanager
def without_reference_triggers() -> Iterator[bool]:
    """On PostgreSQL, where this role may set ``session_replication_role``: rows inserted
    in the block skip the per-row triggers, the foreign-key checks among them. Yields
    whether they do; elsewhere (SQLite, or a role without the right) nothing changes and
    the database checks every row as usual.

    Only for rows whose every reference the caller guarantees: ids it read back from
    parents created earlier in the same, still open, transaction (no other transaction
    can see them, so none can delete them before the commit), or references it checks
    itself before committing, in one set-based query per table that locks older parents
    ``FOR KEY SHARE`` as the triggers would, row by row. The per-row checks cost
    PostgreSQL most of the time of a COPY into votes or vote events (three foreign keys
    a row). The setting is ``LOCAL``: it goes back at the end of the block, and with the
    transaction if that ends first.
    """
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        yield False
        return
    # has_parameter_privilege (and GRANT SET ON PARAMETER) exist from PostgreSQL 15 on.
    may_grant = connection.dialect.server_version_info >= (15,)
    allowed = connection.exec_driver_sql(
        "SELECT current_setting('is_superuser') = 'on'"
        + (" OR has_parameter_privilege('session_replication_role', 'SET')"
           if may_grant else "")).scalar()
    if not allowed:
        yield False
        return
    connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
    yield True
    # Not reached when the block fails: the rollback that follows undoes the setting.
    connection.exec_driver_sql("SET LOCAL session_replication_role = origin")


class EpochSeconds:
    """A column of UTC times given as float epoch seconds (microsecond precision)."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = np.asarray(values, dtype=np.float64)


def insert_columns(table: sa.Table, columns: Mapping[str, Any], length: int, *,
                   progress: Callable[[int], None] | None = None) -> int:
    """Insert ``length`` rows; each column is an array of that length, an
    :class:`EpochSeconds`, or one value for every row. Returns ``length``. A NumPy masked
    array (``numpy.ma``) writes NULL where it is masked.

    Columns left out must have a server default or be nullable: Python-side defaults are
    not run, so leaving out such a column is refused. ``progress`` is called with the
    number of rows of each batch written.
    """
    missing = [column.name for column in table.columns
               if column.name not in columns and column.default is not None]
    if missing:
        raise ValueError(f"rows for {table.name} lack defaulted columns {missing}")
    connection = db.session.connection()
    names = list(columns)
    if connection.dialect.name == "postgresql":
        _copy(connection, table, columns, length, progress)
        return length
    quote = connection.dialect.identifier_preparer.quote
    # Identifiers from the table's metadata, quoted by the dialect; values bound.
    statement = (f"INSERT INTO {quote(table.name)} "  # noqa: S608
                 f"({', '.join(quote(name) for name in names)}) "
                 f"VALUES ({', '.join('?' for _ in names)})")  # SQLite's parameter style
    for start in range(0, length, BATCH):
        stop = min(start + BATCH, length)
        rows = list(zip(*(_values(columns[name], start, stop, "sqlite") for name in names),
                        strict=True))
        connection.exec_driver_sql(statement, rows)
        if progress is not None:
            progress(len(rows))
    return length


def _copy(connection: sa.Connection, table: sa.Table, columns: Mapping[str, Any],
          length: int, progress: Callable[[int], None] | None) -> None:
    """``COPY ... FROM STDIN`` of the rows, one statement for the table.

    Where every column has a fixed width (numbers, times, one value for every row: the
    vote tables, a snapshot's memberships and counts, NULLs given as masked arrays), each
    batch is one NumPy record array in PostgreSQL's binary COPY format, written as one
    block of bytes: no Python object per value in the client, no text to parse in the
    server. Columns of free text (proposals, participants: thousands of rows, not
    millions) go row by row through psycopg's text COPY.
    """
    quote = connection.dialect.identifier_preparer.quote
    names = list(columns)
    target = f"{quote(table.name)} ({', '.join(quote(name) for name in names)})"
    layout = _binary_layout(connection.dialect, table, columns)
    with connection.connection.cursor() as cursor:
        if layout is not None:
            with cursor.copy(f"COPY {target} FROM STDIN (FORMAT BINARY)") as copy:
                copy.write(BINARY_HEADER)
                for start in range(0, length, BATCH):
                    stop = min(start + BATCH, length)
                    copy.write(_binary_rows(layout, columns, start, stop))
                    if progress is not None:
                        progress(stop - start)
                copy.write(BINARY_TRAILER)
            return
        with cursor.copy(f"COPY {target} FROM STDIN") as copy:
            for start in range(0, length, BATCH):
                stop = min(start + BATCH, length)
                for row in zip(*(_values(columns[name], start, stop, "postgresql")
                                 for name in names), strict=True):
                    copy.write_row(row)
                if progress is not None:
                    progress(stop - start)


# PostgreSQL's binary COPY: a signature, flags and header-extension length (both 0), then
# per row the number of fields (int16) and each field as its length (int32) and its bytes
# (a NULL: length -1 and no bytes), all big-endian; -1 as a row's field count ends the data.
BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
BINARY_TRAILER = (-1).to_bytes(2, "big", signed=True)
# The binary form of each column type (as SQLAlchemy names it for PostgreSQL) that has a
# fixed width, and the kinds of NumPy array it takes without a change of meaning.
BINARY_TYPES = {
    "SMALLINT": (">i2", "iu"), "INTEGER": (">i4", "iu"), "BIGINT": (">i8", "iu"),
    "BOOLEAN": ("?", "b"), "REAL": (">f4", "f"), "DOUBLE PRECISION": (">f8", "f"),
    "FLOAT": (">f8", "f"),
}
TIMESTAMPTZ = "TIMESTAMP WITH TIME ZONE"
POSTGRES_EPOCH_US = 946_684_800_000_000  # 2000-01-01 UTC, where PostgreSQL counts from


def _binary_layout(dialect: sa.Dialect, table: sa.Table,
                   columns: Mapping[str, Any]) -> list[tuple[str, np.dtype]] | None:
    """Each column's name and binary NumPy type, or None when a column has no fixed width
    (text that varies from row to row, an array of objects, a type not listed above)."""
    layout = []
    for name, column in columns.items():
        sql_type = table.columns[name].type.compile(dialect=dialect)
        if isinstance(column, EpochSeconds):
            if sql_type != TIMESTAMPTZ:
                return None
            layout.append((name, np.dtype(">i8")))
        elif sql_type.startswith(("VARCHAR", "TEXT")) and isinstance(column, str):
            layout.append((name, np.dtype(f"S{len(column.encode())}")))
        elif sql_type in BINARY_TYPES:
            binary, kinds = BINARY_TYPES[sql_type]
            kind = column.dtype.kind if isinstance(column, np.ndarray) else \
                np.asarray(column).dtype.kind
            if kind not in kinds:
                return None
            layout.append((name, np.dtype(binary)))
        else:
            return None
    return layout


def _binary_rows(layout: list[tuple[str, np.dtype]], columns: Mapping[str, Any],
                 start: int, stop: int) -> bytes:
    """Rows ``start:stop`` in PostgreSQL's binary COPY format."""
    fields = [("fields", ">i2")]
    for index, (_name, dtype) in enumerate(layout):
        fields += [(f"length{index}", ">i4"), (f"value{index}", dtype)]
    rows = np.empty(stop - start, dtype=fields)
    rows["fields"] = len(layout)
    nulls: dict[int, np.ndarray] = {}
    for index, (name, dtype) in enumerate(layout):
        column = columns[name]
        rows[f"length{index}"] = dtype.itemsize
        if isinstance(column, EpochSeconds):
            micro = np.round(column.values[start:stop] * 1e6).astype(np.int64)
            rows[f"value{index}"] = micro - POSTGRES_EPOCH_US
        elif isinstance(column, str):
            rows[f"value{index}"] = column.encode()
        else:
            values = column[start:stop] if isinstance(column, np.ndarray) else column
            null = np.ma.getmaskarray(values) if np.ma.isMaskedArray(values) else None
            if null is not None and null.any():
                nulls[index] = null
                rows[f"length{index}"][null] = -1
            present = np.ma.getdata(values)
            if dtype.kind in "iu" and np.size(values):
                checked = present if null is None else present[~null]
                if np.size(checked) and not _fits(checked, dtype):
                    raise ValueError(f"{name}: values out of range for {dtype}")
            rows[f"value{index}"] = present
    if not nulls:
        return rows.tobytes()
    # A NULL field has no bytes: every row is then a fixed-width record with the NULL
    # fields' value bytes cut out, row by row in one boolean selection.
    raw = rows.view(np.uint8).reshape(len(rows), rows.dtype.itemsize)
    keep = np.ones(raw.shape, dtype=bool)
    for index, null in nulls.items():
        offset = rows.dtype.fields[f"value{index}"][1]
        keep[null, offset:offset + layout[index][1].itemsize] = False
    return raw[keep].tobytes()


def _fits(values: Any, dtype: np.dtype) -> bool:
    info = np.iinfo(dtype)
    return info.min <= np.min(values) and np.max(values) <= info.max


def _values(column: Any, start: int, stop: int, dialect: str) -> list[Any]:
    if isinstance(column, EpochSeconds):
        return utc_text(column.values[start:stop], dialect)
    if isinstance(column, np.ndarray):
        return column[start:stop].tolist()
    return [column] * (stop - start)


def utc_text(epoch_seconds: np.ndarray, dialect: str) -> list[str]:
    """UTC times as the database stores them: SQLAlchemy's SQLite storage format
    (``YYYY-MM-DD HH:MM:SS.ffffff``, naive UTC), or ISO 8601 with ``+00`` for PostgreSQL.

    Each field is computed for the whole array with integer arithmetic and written digit
    by digit into one array of characters, so no Python code runs per value; NumPy's own
    ``datetime_as_string`` formats value by value (bench/README.md has the figures)."""
    micro = np.round(np.asarray(epoch_seconds, dtype=np.float64) * 1e6).astype(np.int64)
    days, micro_of_day = np.divmod(micro, 86_400_000_000)
    year, month, day = civil_from_days(days)
    if len(year) and (year.min() < 1 or year.max() > 9999):
        raise ValueError("times outside the years 1 to 9999")
    second, microsecond = np.divmod(micro_of_day, 1_000_000)
    hour, second = np.divmod(second, 3600)
    minute, second = np.divmod(second, 60)
    template = "0000-00-00 00:00:00.000000" + ("+00" if dialect == "postgresql" else "")
    chars = np.empty((len(micro), len(template)), dtype=np.uint32)  # UTF-32, a code unit a char
    chars[:] = np.frombuffer(template.encode("utf-32-le"), dtype=np.uint32)
    for value, start, digits in ((year, 0, 4), (month, 5, 2), (day, 8, 2), (hour, 11, 2),
                                 (minute, 14, 2), (second, 17, 2), (microsecond, 20, 6)):
        for place in range(digits):
            chars[:, start + digits - 1 - place] += (value // 10**place % 10).astype(np.uint32)
    return chars.view(f"<U{len(template)}").ravel().tolist()


def civil_from_days(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) of the proleptic Gregorian calendar for days since 1970-01-01,
    for whole arrays (Howard Hinnant's ``civil_from_days``, counting in 400-year eras
    that start on 1 March so that the leap day ends each year)."""
    z = days + 719_468  # days since 0000-03-01
    era = z // 146_097
    day_of_era = z - era * 146_097
    year_of_era = (day_of_era - day_of_era // 1460 + day_of_era // 36_524
                   - day_of_era // 146_096) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    month_from_march = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * month_from_march + 2) // 5 + 1
    month = np.where(month_from_march < 10, month_from_march + 3, month_from_march - 9)
    year = year_of_era + era * 400 + (month <= 2)
    return year, month, day
