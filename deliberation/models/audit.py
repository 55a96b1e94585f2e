"""The audit log: who did what, when and why. Append-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from deliberation.database import db
from deliberation.models._common import UTCDateTime, utcnow


class AuditEntry(db.Model):
    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_target", "target_type", "target_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    actor_role: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    action: so.Mapped[str] = so.mapped_column(sa.String(64))
    target_type: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    target_id: so.Mapped[int | None] = so.mapped_column()
    round_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("rounds.id", ondelete="SET NULL"), index=True
    )
    reason: so.Mapped[str | None] = so.mapped_column(sa.Text)
    details: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)

    actor: so.Mapped[User | None] = so.relationship()  # noqa: F821
