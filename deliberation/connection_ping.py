"""Check pooled database connections that sat idle, instead of before every use.

SQLAlchemy's ``pool_pre_ping`` costs a round trip on every checkout: on PostgreSQL, a
third one for the vote request, which otherwise needs two (issue 7). A connection used a
moment ago is as good as a pinged one, so this pings only a connection that has been idle
(checked in) for at least ``idle_seconds``. A failed ping raises ``DisconnectionError``
in the pool's checkout, which makes the pool drop that connection and hand out a fresh
one, as ``pool_pre_ping`` does.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

_IDLE_SINCE = "hiroba_idle_since"
_clock = time.monotonic


def ping_connections_idle_for(engine: Engine, idle_seconds: float) -> None:
    """Ping a pooled connection on checkout when it was idle for ``idle_seconds`` or more."""
    dialect = engine.dialect

    @event.listens_for(engine.pool, "checkin")
    def _mark_idle(dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None:
            record.info[_IDLE_SINCE] = _clock()

    @event.listens_for(engine.pool, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.pop(_IDLE_SINCE, None)
        if idle_since is None or _clock() - idle_since < idle_seconds:
            return  # new, or used a moment ago
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as error:  # noqa: BLE001  (any failure: replace the connection)
            raise DisconnectionError(f"idle connection failed its ping: {error}") from error
        if alive is False:
            raise DisconnectionError("idle connection failed its ping")
