"""The policy agenda: escalated proposals and the council's official responses."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from deliberation.database import db
from deliberation.models._common import UTCDateTime, one_of, utcnow

if TYPE_CHECKING:  # for the annotations only: the mapper finds the classes by name
    from deliberation.models.participation import Proposal
    from deliberation.models.round import Round

ESCALATION_KINDS = ("automatic", "manual")
RESPONSE_STATUSES = ("received", "under_review", "answered")
RESPONSE_OUTCOMES = ("adopted", "partly_adopted", "not_adopted")
PLAN_LAYERS = ("vision", "management_guideline", "sector_plan")


class Escalation(db.Model):
    """A proposal put on the council's agenda, with the evidence frozen at that moment.

    One row per proposal: re-running a snapshot never escalates twice. A withdrawn
    escalation keeps its row (withdrawn_at set) for transparency.
    """

    __tablename__ = "escalations"
    __table_args__ = (
        sa.UniqueConstraint("proposal_id"),
        sa.CheckConstraint(one_of("kind", ESCALATION_KINDS), name="kind"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    proposal_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE")
    )
    round_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("rounds.id", ondelete="CASCADE"), index=True
    )
    snapshot_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("cluster_snapshots.id", ondelete="SET NULL")
    )
    kind: so.Mapped[str] = so.mapped_column(sa.String(16), default="automatic")
    reason: so.Mapped[str | None] = so.mapped_column(sa.Text)  # required for manual
    # Per-group counts and lower bounds, group sizes, policy, snapshot manifest, time.
    evidence: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    support: so.Mapped[float] = so.mapped_column(default=0.0)  # weakest group's lower bound
    escalated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    escalated_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    withdrawn_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    withdrawn_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    withdrawal_reason: so.Mapped[str | None] = so.mapped_column(sa.Text)

    proposal: so.Mapped[Proposal] = so.relationship()
    round: so.Mapped[Round] = so.relationship()
    response: so.Mapped[OfficialResponse | None] = so.relationship(
        back_populates="escalation", uselist=False
    )


class OfficialResponse(db.Model):
    """The council's public answer to an escalated proposal."""

    __tablename__ = "official_responses"
    __table_args__ = (
        sa.UniqueConstraint("escalation_id"),
        sa.CheckConstraint(one_of("status", RESPONSE_STATUSES), name="status"),
        sa.CheckConstraint(
            "outcome IS NULL OR " + one_of("outcome", RESPONSE_OUTCOMES), name="outcome"
        ),
        sa.CheckConstraint(
            "plan_layer IS NULL OR " + one_of("plan_layer", PLAN_LAYERS), name="plan_layer"
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    escalation_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("escalations.id", ondelete="CASCADE")
    )
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="received")
    outcome: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    answer: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    # Why the council decided as it did (required with an outcome).
    reasons: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    department: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    plan_theme: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    plan_layer: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    due_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    answered_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    updated_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow
    )
    updated_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    escalation: so.Mapped[Escalation] = so.relationship(back_populates="response")


class AgendaAnswerSeen(db.Model):
    """That a person has seen the council's answer to an item they voted on."""

    __tablename__ = "agenda_answers_seen"
    __table_args__ = (sa.UniqueConstraint("user_id", "response_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    response_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("official_responses.id", ondelete="CASCADE")
    )
    # The answer's version seen (answered_at): a changed answer shows again.
    answered_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    seen_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
