"""While the database cannot be reached, the error pages are rendered without it.

The error handlers mark the request (``mark``); the locale selector and the login's user
loader then leave the account alone (``active``), and the pages are rendered without the
context processors, which would load the logged-in account from the database.
"""

from __future__ import annotations

from flask import g, has_request_context
from sqlalchemy import exc

# What a database that is down, restarting, locked or unreadable raises: no connection, a
# connection ended by the server, a pool that cannot hand one out.
UNAVAILABLE = (exc.OperationalError, exc.InterfaceError, exc.DisconnectionError,
               exc.TimeoutError)


def is_unavailable_error(error: BaseException | None) -> bool:
    return isinstance(error, UNAVAILABLE)


def mark() -> None:
    g.hiroba_database_unavailable = True


def active() -> bool:
    return has_request_context() and bool(g.get("hiroba_database_unavailable"))
