"""Views whose statements are each atomic on their own, run in autocommit on PostgreSQL.

psycopg sends ``BEGIN`` and ``COMMIT`` as round trips of their own. On PostgreSQL the vote
request reads the round with the voter in one statement and writes the vote, its event
and reads the next card in another (a data-modifying ``WITH``); no two of its statements
need to succeed or fail together, so with the session's connection in autocommit it needs
two round trips instead of four (issue 7, load benchmark). Services still call
``commit``/``rollback``; on an autocommit connection they have nothing to do. SQLite keeps
its transactions: there the vote and its event are two statements.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from deliberation.database import db


def autocommit_on_postgresql(view: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a view (outermost, before anything reads the database) so that its
    session starts on an autocommit connection on PostgreSQL. Only for views whose
    services never need two statements to succeed or fail together."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        session = db.session()
        if not session.in_transaction() and session.get_bind().dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        return view(*args, **kwargs)

    return wrapper
