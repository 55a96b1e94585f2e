"""Two copies of one form sent at the same moment (a double click), made reproducible."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from deliberation.database import db


@contextmanager
def committed_first(model: type, statement: Callable[[], sa.Executable]) -> Iterator[list]:
    """While the block runs, the first time a session is about to write a ``model`` row
    (flushing a new or changed one, or running an INSERT or UPDATE statement on its
    table), ``statement()`` is committed on another connection first: the other request
    passed the same checks and committed while this one was between its checks and its
    write. Yields a list that holds True once that happened."""
    done: list[bool] = []

    def commit_the_other() -> None:
        done.append(True)
        with db.engine.begin() as connection:
            connection.execute(statement())

    def before_flush(session, flush_context, instances) -> None:
        if not done and any(isinstance(row, model) for row in (*session.new, *session.dirty)):
            commit_the_other()

    def do_orm_execute(state) -> None:
        if (not done and (state.is_insert or state.is_update)
                and state.statement.table.name == model.__tablename__):
            commit_the_other()

    sessions = db.session.session_factory  # every request's session is made by it
    sa.event.listen(sessions, "before_flush", before_flush)
    sa.event.listen(sessions, "do_orm_execute", do_orm_execute)
    try:
        yield done
    finally:
        sa.event.remove(sessions, "before_flush", before_flush)
        sa.event.remove(sessions, "do_orm_execute", do_orm_execute)
