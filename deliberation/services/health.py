"""Health report for monitoring (no personal data): database and snapshot freshness.

A round waits for a new snapshot when at least the small-count minimum of people cast vote
events its newest "ok" snapshot did not see (fewer wait for more on purpose), or on an
explicit request (its ``clustering_jobs`` row); see deliberation/jobs/runner.py.
It has waited since the earlier of the two, but not since before the round was created
here: an imported round's votes carry the times they were cast in Pol.is, years before
they reached this database.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from deliberation.database import db
from deliberation.models import ClusteringJob, ClusterSnapshot, Round, VoteEvent
from deliberation.models._common import utcnow
from deliberation.models.snapshot import newest_ok_snapshot, unseen_votes

log = logging.getLogger(__name__)

OPEN_PHASES = ("collecting", "voting", "reflection")


def _first_unseen_vote_at(round_id: Any, now: datetime) -> sa.ScalarSelect:
    """When the oldest vote event that the round's newest "ok" snapshot did not see was
    cast (NULL when it saw them all): index probes, however many events there are."""
    seen = sa.func.coalesce(
        newest_ok_snapshot(ClusterSnapshot.last_vote_event_id, round_id=round_id)
        .correlate_except(ClusterSnapshot).scalar_subquery(), 0)
    return (
        sa.select(VoteEvent.created_at)
        .where(VoteEvent.round_id == round_id, VoteEvent.id > seen,
               # too few new voters wait for more on purpose (the runner's rule)
               unseen_votes(round_id, now))
        .order_by(VoteEvent.id)
        .limit(1)
        .scalar_subquery()
    )


def _open_rounds(now: datetime) -> sa.Select:
    """Each open round with its creation, its newest "ok" snapshot's time, its job (an
    explicit request, a lease) and its oldest unseen vote."""
    return (
        sa.select(Round.slug, Round.phase, Round.created_at.label("round_created_at"),
                  ClusteringJob.requested_at, ClusteringJob.lease_until,
                  newest_ok_snapshot(ClusterSnapshot.created_at, round_id=Round.id)
                  .correlate(Round).scalar_subquery().label("created_at"),
                  _first_unseen_vote_at(Round.id, now).label("unseen_vote_at"))
        .outerjoin(ClusteringJob, ClusteringJob.round_id == Round.id)
        .where(Round.phase.in_(OPEN_PHASES))
        .order_by(Round.id)
    )


def pending_since(round_id: int) -> datetime | None:
    """Since when the round has waited for a new snapshot (None: it is up to date)."""
    row = db.session.execute(
        sa.select(ClusteringJob.requested_at, Round.created_at.label("round_created_at"),
                  _first_unseen_vote_at(round_id, utcnow()).label("unseen_vote_at"))
        .select_from(Round).outerjoin(ClusteringJob, ClusteringJob.round_id == Round.id)
        .where(Round.id == round_id)).first()
    return None if row is None else _waiting_since(row)


def _waiting_since(row: Any) -> datetime | None:
    unseen = row.unseen_vote_at
    if unseen is not None:
        unseen = max(unseen, row.round_created_at)
    known = [moment for moment in (row.requested_at, unseen) if moment is not None]
    return min(known) if known else None


def report() -> dict[str, Any]:
    """``{"status", "database", "rounds": [...]}``; never raises on a database error."""
    now = utcnow()
    try:
        db.session.execute(sa.text("SELECT 1"))
        rows = db.session.execute(_open_rounds(now)).all()
        db.session.rollback()  # read only; end the transaction
    except SQLAlchemyError as error:
        db.session.rollback()
        log.warning("health check: database unreachable: %s", type(error).__name__)
        return {"status": "error", "database": "unreachable", "rounds": []}

    def age(moment: Any) -> float | None:
        return None if moment is None else round((now - moment).total_seconds(), 1)

    rounds = []
    for row in rows:
        pending = _waiting_since(row)
        rounds.append({
            "slug": row.slug,
            "phase": row.phase,
            "snapshot_age_seconds": age(row.created_at),
            "refresh_pending": pending is not None,
            "pending_seconds": age(pending),
            "refresh_running": row.lease_until is not None and row.lease_until > now,
        })
    return {"status": "ok", "database": "ok", "rounds": rounds}
