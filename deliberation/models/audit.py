"""The audit log: who did what, when and why. Append-only.

``record`` adds an entry to the caller's transaction (the caller commits), so an action and
its entry are stored together or not at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from deliberation.database import db
from deliberation.models._common import UTCDateTime, utcnow
from deliberation.text import clean_text

if TYPE_CHECKING:  # for the annotation only: the mapper finds the class by name
    from deliberation.models.user import User


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

    actor: so.Mapped[User | None] = so.relationship()


def record(
    action: str,
    *,
    actor: Any,
    target: Any = None,
    round_id: int | None = None,
    reason: str | None = None,
    **details: Any,
) -> AuditEntry:
    """Add an entry for ``action`` by ``actor`` (a User, or None for the system) on
    ``target`` (any model instance with an id)."""
    entry = AuditEntry(
        action=action,
        actor_id=actor.id if actor is not None else None,
        actor_role=actor.role if actor is not None else None,
        target_type=target.__tablename__ if target is not None else None,
        target_id=target.id if target is not None else None,
        round_id=round_id,
        # Typed by staff in many forms: stored as every other text is (no NUL, which
        # PostgreSQL refuses, no right-to-left override turning the log's columns around).
        reason=clean_text(reason) or None if reason else None,
        details=details,
    )
    db.session.add(entry)
    return entry
