"""A round's snapshot history, kept bounded.

The runner prunes after each new snapshot, so a round that is recomputed every few seconds
for weeks does not pile up millions of membership rows (nor keep old positions of
participants longer than needed).
"""

from __future__ import annotations

import sqlalchemy as sa

from deliberation.database import db
from deliberation.models import (
    ClusterSnapshot,
    Escalation,
    SnapshotGroup,
    SnapshotMembership,
    SnapshotProposalStat,
)
from deliberation.models.snapshot import newest_ok_snapshot


def prune_snapshots(round_id: int, keep: int) -> int:
    """Delete the round's snapshots older than its newest ``keep``; returns how many.

    Always kept: the newest "ok" snapshot (even after ``keep`` failed runs) and every
    snapshot an escalation cites as its evidence. Commits.
    """
    if keep < 1:
        raise ValueError("keep at least one snapshot")
    ids = db.session.scalars(
        sa.select(ClusterSnapshot.id).where(ClusterSnapshot.round_id == round_id)
        .order_by(ClusterSnapshot.id.desc()).offset(keep)).all()
    if not ids:
        return 0
    kept = set(db.session.scalars(
        sa.select(Escalation.snapshot_id).where(Escalation.round_id == round_id,
                                                Escalation.snapshot_id.is_not(None))))
    kept.add(db.session.scalar(newest_ok_snapshot(ClusterSnapshot.id, round_id=round_id)))
    to_delete = [snapshot_id for snapshot_id in ids if snapshot_id not in kept]
    try:
        for start in range(0, len(to_delete), 500):
            batch = to_delete[start:start + 500]
            for child in (SnapshotMembership, SnapshotGroup, SnapshotProposalStat):
                db.session.execute(sa.delete(child).where(child.snapshot_id.in_(batch)),
                                   execution_options={"synchronize_session": False})
            db.session.execute(sa.delete(ClusterSnapshot).where(ClusterSnapshot.id.in_(batch)),
                               execution_options={"synchronize_session": False})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return len(to_delete)
