"""Cluster snapshots: the frozen output of one clustering run over a round's votes.

A snapshot is written in one transaction, so a reader sees the old snapshot or the new one,
never a mix; a round's latest snapshot is its newest "ok" one (``latest_snapshot``). Per-participant positions and
per-group counts are rows (queried by pages and the threshold engine); the rest of the
analysis (repness, consensus, priorities, warm-start state) is JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from deliberation import small_counts
from deliberation.database import db
from deliberation.models._common import UTCDateTime, one_of, utcnow
from deliberation.models.participation import VoteEvent
from deliberation.models.round import PHASES_ACCEPTING_VOTES, Round

SNAPSHOT_STATUSES = ("ok", "failed")


class ClusterSnapshot(db.Model):
    __tablename__ = "cluster_snapshots"
    __table_args__ = (
        sa.CheckConstraint(one_of("status", SNAPSHOT_STATUSES), name="status"),
        sa.Index("ix_cluster_snapshots_round_created", "round_id", "created_at"),
        # "The round's newest ok snapshot" (every vote card, results, health) is one step
        # down this index instead of a sort of all the round's snapshots.
        sa.Index("ix_cluster_snapshots_round_status_id", "round_id", "status", "id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    round_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("rounds.id", ondelete="CASCADE"))
    status: so.Mapped[str] = so.mapped_column(sa.String(8), default="ok")
    method: so.Mapped[str] = so.mapped_column(sa.String(8))
    k: so.Mapped[int] = so.mapped_column(default=0)
    n_participants: so.Mapped[int] = so.mapped_column(default=0)
    n_clustered: so.Mapped[int] = so.mapped_column(default=0)
    n_votes: so.Mapped[int] = so.mapped_column(default=0)
    input_hash: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    # Up to which vote event the snapshot saw: freshness is measured against it.
    last_vote_event_id: so.Mapped[int | None] = so.mapped_column(sa.BigInteger)
    manifest: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    # repness, consensus, group-aware consensus, priorities, keyed by proposal id
    statistics: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    warm_start: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    error: so.Mapped[str | None] = so.mapped_column(sa.Text)
    duration_ms: so.Mapped[int | None] = so.mapped_column()
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    groups: so.Mapped[list[SnapshotGroup]] = so.relationship(
        back_populates="snapshot", cascade="all, delete-orphan", order_by="SnapshotGroup.group_id"
    )

    @property
    def counts_as_of(self) -> datetime:
        """Since when the snapshot's counts stand: its own time, or that of an earlier
        snapshot when this one held back the new votes of too few people to show apart
        (``deliberation.engine.snapshots.refresh_round``)."""
        stood = (self.manifest or {}).get("counts_as_of")
        if stood:
            try:
                return datetime.fromisoformat(stood)
            except (TypeError, ValueError):
                pass
        return self.created_at

    @property
    def n_votes_grouped(self) -> int:
        """The votes the groups were drawn from: ``n_votes`` less those on rejected,
        pending, hidden and meta proposals (older snapshots recorded only the total)."""
        return int((self.manifest or {}).get("n_votes_grouped", self.n_votes))


class SnapshotGroup(db.Model):
    __tablename__ = "snapshot_groups"
    __table_args__ = (sa.UniqueConstraint("snapshot_id", "group_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    snapshot_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("cluster_snapshots.id", ondelete="CASCADE")
    )
    group_id: so.Mapped[int] = so.mapped_column()
    size: so.Mapped[int] = so.mapped_column()
    center_x: so.Mapped[float] = so.mapped_column(default=0.0)
    center_y: so.Mapped[float] = so.mapped_column(default=0.0)

    snapshot: so.Mapped[ClusterSnapshot] = so.relationship(back_populates="groups")


class SnapshotMembership(db.Model):
    """A participant's position on the opinion map and group (NULL: not clustered)."""

    __tablename__ = "snapshot_memberships"
    __table_args__ = (sa.UniqueConstraint("snapshot_id", "participant_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    snapshot_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("cluster_snapshots.id", ondelete="CASCADE")
    )
    participant_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("participants.id", ondelete="CASCADE")
    )
    x: so.Mapped[float] = so.mapped_column()
    y: so.Mapped[float] = so.mapped_column()
    group_id: so.Mapped[int | None] = so.mapped_column()


class SnapshotProposalStat(db.Model):
    """Vote counts for one proposal within one group (group_id NULL: everyone)."""

    __tablename__ = "snapshot_proposal_stats"
    __table_args__ = (
        sa.UniqueConstraint("snapshot_id", "proposal_id", "group_id"),
        sa.Index("ix_snapshot_proposal_stats_snapshot_proposal", "snapshot_id", "proposal_id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    snapshot_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("cluster_snapshots.id", ondelete="CASCADE")
    )
    proposal_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE")
    )
    group_id: so.Mapped[int | None] = so.mapped_column()
    agree: so.Mapped[int] = so.mapped_column(default=0)
    disagree: so.Mapped[int] = so.mapped_column(default=0)
    passes: so.Mapped[int] = so.mapped_column(default=0)

    @property
    def seen(self) -> int:
        return self.agree + self.disagree + self.passes


def newest_ok_snapshot(*columns: Any, round_id: Any) -> sa.Select:
    """Select ``columns`` of a round's newest snapshot with status "ok" (highest id).

    ``round_id`` is a value, a bind parameter, or ``Round.id`` for a correlated subquery.
    One step down the index ``(round_id, status, id)``, however long the history.
    """
    return (
        sa.select(*columns)
        .where(ClusterSnapshot.round_id == round_id, ClusterSnapshot.status == "ok")
        .order_by(ClusterSnapshot.id.desc())
        .limit(1)
    )


UNSEEN_EVENTS_READ = 200  # unseen events read per round and pass (see unseen_votes)


def unseen_votes(round_id: Any, now: datetime, *,
                 pile_counts: Any = sa.true()) -> sa.ColumnElement[bool]:
    """True when at least the small-count minimum of people (``deliberation.small_counts``,
    the round's own if higher) cast vote events newer than what its newest "ok" snapshot saw;
    once the round takes no more votes (closed, or past its deadline at ``now``), when
    anyone did: the final results count every vote.

    Fewer wait: a snapshot that took in one person's new votes would move the public
    counts by exactly their ballot, for whoever knows when they voted
    (``deliberation.engine.snapshots.refresh_round`` holds them back for the same reason
    when another change asks for a run). ``round_id`` is a value or a column to correlate
    with; the subqueries read aliases so that they correlate with nothing else.

    ``pile_counts``: a condition under which a pile of ``UNSEEN_EVENTS_READ`` unseen events
    from fewer people counts too (the runner spaces those runs out: ``jobs.runner.due``).
    """
    seen = (newest_ok_snapshot(ClusterSnapshot.last_vote_event_id, round_id=round_id)
            .correlate_except(ClusterSnapshot).scalar_subquery())
    event = so.aliased(VoteEvent)
    round_ = so.aliased(Round)
    # The oldest unseen events only, down the (round_id, id) index, since this is evaluated
    # for every round on every pass. So many unseen events make the round due whoever cast
    # them (one person changing answers over and over must not keep it from its snapshot);
    # the run then holds back too few voters' votes itself.
    unseen = (sa.select(event.participant_id)
              .where(event.round_id == round_id, event.id > sa.func.coalesce(seen, 0))
              .order_by(event.id).limit(UNSEEN_EVENTS_READ).correlate_except(event).subquery())
    voting_ended = sa.or_(round_.phase.not_in(PHASES_ACCEPTING_VOTES), round_.closes_at <= now)
    minimum = (sa.select(sa.case((voting_ended, 1),
                                 (round_.min_group_display > small_counts.MIN_COUNT,
                                  round_.min_group_display), else_=small_counts.MIN_COUNT))
               .where(round_.id == round_id).correlate_except(round_).scalar_subquery())
    return sa.exists(sa.select(sa.func.count()).select_from(unseen).having(sa.or_(
        sa.func.count(sa.distinct(unseen.c.participant_id)) >= minimum,
        sa.and_(sa.func.count() >= UNSEEN_EVENTS_READ, pile_counts))))


def latest_snapshot(round_id: int) -> ClusterSnapshot | None:
    """The newest snapshot with status "ok" of a round (highest id)."""
    return db.session.scalar(newest_ok_snapshot(ClusterSnapshot, round_id=round_id))
