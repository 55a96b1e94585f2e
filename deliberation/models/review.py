"""Escalations held for a facilitator's review because a coordinated block decided them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from deliberation.database import db
from deliberation.models._common import UTCDateTime, one_of, utcnow

if TYPE_CHECKING:  # for the annotation only: the mapper finds the class by name
    from deliberation.models.participation import Proposal

REVIEW_STATUSES = ("pending", "approved", "dismissed", "superseded")


class EscalationReview(db.Model):
    """A proposal that passed the rule only with a flagged block's votes.

    One row per proposal. ``pending``: waits for a facilitator; ``approved``: escalated by
    the facilitator; ``dismissed``: not escalated unless it later passes without the block;
    ``superseded``: it later passed without the block and escalated by itself.
    """

    __tablename__ = "escalation_reviews"
    __table_args__ = (
        sa.UniqueConstraint("proposal_id"),
        sa.CheckConstraint(one_of("status", REVIEW_STATUSES), name="status"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    proposal_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE"))
    round_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    snapshot_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("cluster_snapshots.id", ondelete="SET NULL"))
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="pending")
    # the decision with and without the blocks, and the blocks (sizes, similarity, burst)
    evidence: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    decided_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    decided_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    reason: so.Mapped[str | None] = so.mapped_column(sa.Text)

    proposal: so.Mapped[Proposal] = so.relationship()
