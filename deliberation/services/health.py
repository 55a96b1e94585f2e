"""Health report for monitoring (no personal data): database and snapshot freshness."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from deliberation.database import db
from deliberation.models import ClusterSnapshot, Round
from deliberation.models._common import utcnow

log = logging.getLogger(__name__)

OPEN_PHASES = ("collecting", "voting", "reflection")


def report() -> dict[str, Any]:
    """``{"status", "database", "rounds": [...]}``; never raises on a database error."""
    now = utcnow()
    try:
        db.session.execute(sa.text("SELECT 1"))
        newest = (
            sa.select(ClusterSnapshot.round_id,
                      sa.func.max(ClusterSnapshot.created_at).label("created_at"))
            .where(ClusterSnapshot.status == "ok")
            .group_by(ClusterSnapshot.round_id)
            .subquery()
        )
        rows = db.session.execute(
            sa.select(Round.slug, Round.phase, Round.snapshot_requested_at,
                      Round.cluster_lease_until, newest.c.created_at)
            .outerjoin(newest, newest.c.round_id == Round.id)
            .where(Round.phase.in_(OPEN_PHASES))
            .order_by(Round.id)
        ).all()
        db.session.rollback()  # read only; end the transaction
    except SQLAlchemyError as error:
        db.session.rollback()
        log.warning("health check: database unreachable: %s", type(error).__name__)
        return {"status": "error", "database": "unreachable", "rounds": []}

    def age(moment: Any) -> float | None:
        if moment is None:
            return None
        if moment.tzinfo is None:  # a max() over SQLite text comes back naive
            from datetime import UTC

            moment = moment.replace(tzinfo=UTC)
        return round((now - moment).total_seconds(), 1)

    rounds = [
        {
            "slug": row.slug,
            "phase": row.phase,
            "snapshot_age_seconds": age(_as_datetime(row.created_at)),
            "refresh_pending": row.snapshot_requested_at is not None,
            "pending_seconds": age(row.snapshot_requested_at),
            "refresh_running": row.cluster_lease_until is not None
            and row.cluster_lease_until > now,
        }
        for row in rows
    ]
    return {"status": "ok", "database": "ok", "rounds": rounds}


def _as_datetime(value: Any) -> Any:
    """max() over a UTCDateTime column loses the type on SQLite (a string comes back)."""
    if isinstance(value, str):
        from datetime import datetime

        return datetime.fromisoformat(value)
    return value
