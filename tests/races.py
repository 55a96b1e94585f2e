"""Two copies of one form sent at the same moment (a double click), made reproducible."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from deliberation.database import db


@contextmanager
def committed_first(model: type, statement: Callable[[], sa.Executable]) -> Iterator[list]:
    """While the block runs, the first time a session is about to write a new ``model``
    row, ``statement()`` is committed on another connection first: the other request
    passed the same checks and committed while this one was between its checks and its
    insert. Yields a list that holds True once that happened."""
    done: list[bool] = []

    def before_flush(session, flush_context, instances) -> None:
        if not done and any(isinstance(row, model) for row in session.new):
            done.append(True)
            with db.engine.begin() as connection:
                connection.execute(statement())

    sessions = db.session.session_factory  # every request's session is made by it
    sa.event.listen(sessions, "before_flush", before_flush)
    try:
        yield done
    finally:
        sa.event.remove(sessions, "before_flush", before_flush)
