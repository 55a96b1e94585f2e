"""Asking the clustering runner for a new snapshot of a round.

Votes need not ask: the runner compares a round's vote events with what its newest
snapshot saw (deliberation/jobs/runner.py). Changes that are not votes (moderation, a new
policy, a phase change, an import) ask here, in the caller's transaction.
"""

from __future__ import annotations

import sqlalchemy as sa

from deliberation.database import db, insert_or_update
from deliberation.models import ClusteringJob, Round
from deliberation.models._common import utcnow


def request_snapshot(round_: Round) -> None:
    """Mark the round as needing a new clustering run (an earlier mark is kept)."""
    if round_.id is None:
        db.session.flush()
    statement = insert_or_update(ClusteringJob).values(round_id=round_.id, requested_at=utcnow())
    db.session.execute(statement.on_conflict_do_update(
        index_elements=[ClusteringJob.round_id],
        set_={"requested_at": sa.func.coalesce(ClusteringJob.requested_at,
                                               statement.excluded.requested_at)},
    ))
