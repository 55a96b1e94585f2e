"""Run a Core statement straight on the DBAPI cursor and get its rows as plain tuples.

For the statements of the vote path that return one row per published proposal (the vote
with the next card, and the card alone): there SQLAlchemy's execution path (parameter
processing, result metadata, one ``Row`` object per row) cost more than the driver's own
work. Run this way, a vote took 5% fewer instructions (callgrind, 9.05 M → 8.58 M per vote;
``bench/vote_instructions.py``; issue 7).

The statement stays a Core construct: it is compiled by SQLAlchemy once per dialect, with
its bind and result processors, and it runs on the DBAPI connection under the given
SQLAlchemy connection, inside its transaction. Driver errors are raised as SQLAlchemy's
(``sa.exc.DBAPIError`` subclasses), and a connection found dead is invalidated, as
``Connection.execute`` does. Not supported: expanding (``IN``), ``literal_execute`` and
escaped parameter names (``ValueError`` at the first run). Not emitted: connection events
such as ``before_cursor_execute``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional_names: Sequence[str] | None  # the order of ``?`` parameters; None if named
    required: frozenset[str]  # parameters without a value in the statement
    defaults: Mapping[str, Any]  # values bound in the statement itself
    bind_processors: Mapping[str, Callable[[Any], Any]]
    result_processors: Sequence[Callable[[Any], Any] | None]


class PlainRowsStatement:
    """A SELECT (or a data-modifying ``WITH … SELECT``) whose rows come back as tuples."""

    def __init__(self, statement: sa.Select) -> None:
        self.statement = statement
        self._compiled: weakref.WeakKeyDictionary[Dialect, _Compiled] = (
            weakref.WeakKeyDictionary())

    def all(self, connection: sa.Connection, parameters: Mapping[str, Any]) -> list[tuple]:
        """Execute with ``parameters`` (by bind parameter name) and fetch every row."""
        dialect = connection.dialect
        compiled = self._compiled.get(dialect) or self._compile(dialect)
        missing = compiled.required.difference(parameters)
        if missing:
            raise sa.exc.InvalidRequestError(
                f"A value is required for bind parameter {min(missing)!r}")
        values = {**compiled.defaults, **parameters}
        try:
            for name, process in compiled.bind_processors.items():
                values[name] = process(values[name])
        except Exception as error:
            raise sa.exc.StatementError(
                f"({type(error).__name__}) {error}", compiled.sql, parameters, error
            ) from error
        arguments: Any = values
        if compiled.positional_names is not None:
            arguments = tuple(values[name] for name in compiled.positional_names)
        pooled = connection.connection  # the pool's proxy of the DBAPI connection
        cursor = pooled.cursor()
        try:
            cursor.execute(compiled.sql, arguments)
            rows = cursor.fetchall()
        except dialect.loaded_dbapi.Error as error:
            dead = dialect.is_disconnect(error, pooled.dbapi_connection, cursor)
            if dead:
                connection.invalidate(error)
            raise sa.exc.DBAPIError.instance(
                compiled.sql, arguments, error, dialect.loaded_dbapi.Error,
                connection_invalidated=dead, dialect=dialect,
            ) from error
        finally:
            cursor.close()
        if any(compiled.result_processors):
            processors = compiled.result_processors
            return [tuple(value if process is None else process(value)
                          for process, value in zip(processors, row, strict=True))
                    for row in rows]
        return rows

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        if (compiled.literal_execute_params or compiled.post_compile_params
                or compiled.escaped_bind_names):
            raise ValueError("expanding, literal_execute and escaped parameter names are not "
                             "supported")
        names = compiled.bind_names  # BindParameter -> name in the SQL
        result = _Compiled(
            sql=compiled.string,
            positional_names=list(compiled.positiontup or []) if compiled.positional else None,
            required=frozenset(name for bind, name in names.items() if bind.required),
            defaults={name: bind.effective_value for bind, name in names.items()
                      if not bind.required},
            bind_processors={
                name: process for bind, name in names.items()
                if (process := _dialect_type(bind.type, dialect).bind_processor(dialect))
                is not None},
            result_processors=[_dialect_type(column.type, dialect).result_processor(dialect, None)
                               for column in self.statement.selected_columns],
        )
        self._compiled[dialect] = result
        return result


def _dialect_type(type_: sa.types.TypeEngine, dialect: Dialect) -> sa.types.TypeEngine:
    """The type as the dialect implements it (a TypeDecorator's includes its impl's)."""
    return type_.dialect_impl(dialect)
