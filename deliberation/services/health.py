"""Health report for monitoring (no personal data): database and snapshot freshness."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from deliberation.database import db
from deliberation.engine.snapshots import newest_ok_snapshot
from deliberation.models import ClusterSnapshot, Round
from deliberation.models._common import utcnow

log = logging.getLogger(__name__)

OPEN_PHASES = ("collecting", "voting", "reflection")


# Each open round with the time of its newest "ok" snapshot: one index lookup per round,
# however long the snapshot history.
_NEWEST_SNAPSHOT_AT = (
    newest_ok_snapshot(ClusterSnapshot.created_at, round_id=Round.id)
    .correlate(Round)
    .scalar_subquery()
)
_OPEN_ROUNDS = (
    sa.select(Round.slug, Round.phase, Round.snapshot_requested_at, Round.cluster_lease_until,
              _NEWEST_SNAPSHOT_AT.label("created_at"))
    .where(Round.phase.in_(OPEN_PHASES))
    .order_by(Round.id)
)


def report() -> dict[str, Any]:
    """``{"status", "database", "rounds": [...]}``; never raises on a database error."""
    now = utcnow()
    try:
        db.session.execute(sa.text("SELECT 1"))
        rows = db.session.execute(_OPEN_ROUNDS).all()
        db.session.rollback()  # read only; end the transaction
    except SQLAlchemyError as error:
        db.session.rollback()
        log.warning("health check: database unreachable: %s", type(error).__name__)
        return {"status": "error", "database": "unreachable", "rounds": []}

    def age(moment: Any) -> float | None:
        return None if moment is None else round((now - moment).total_seconds(), 1)

    rounds = [
        {
            "slug": row.slug,
            "phase": row.phase,
            "snapshot_age_seconds": age(row.created_at),
            "refresh_pending": row.snapshot_requested_at is not None,
            "pending_seconds": age(row.snapshot_requested_at),
            "refresh_running": row.cluster_lease_until is not None
            and row.cluster_lease_until > now,
        }
        for row in rows
    ]
    return {"status": "ok", "database": "ok", "rounds": rounds}
