"""Record the SQL statements an engine sends, for tests that count queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from deliberation.plain_rows import PlainRowsStatement


@contextmanager
def recorded_statements(engine: sa.Engine) -> Iterator[list[str]]:
    """The statements sent through ``engine`` inside the block, in order (a live list),
    including those of ``PlainRowsStatement``, which bypass the engine's events."""
    statements: list[str] = []

    def record(_connection: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement)

    real_all = PlainRowsStatement.all

    def recorded_all(self: PlainRowsStatement, connection: sa.Connection, parameters: Any) -> Any:
        if connection.engine is engine:
            statements.append(str(self.statement.compile(dialect=connection.dialect)))
        return real_all(self, connection, parameters)

    sa.event.listen(engine, "before_cursor_execute", record)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(PlainRowsStatement, "all", recorded_all)
        try:
            yield statements
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)
