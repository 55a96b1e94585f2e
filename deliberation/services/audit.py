"""Writing to the audit log. Callers commit; the entry joins their transaction."""

from __future__ import annotations

from typing import Any

from deliberation.database import db
from deliberation.models import AuditEntry, User


def record(
    action: str,
    *,
    actor: User | None,
    target: Any = None,
    round_id: int | None = None,
    reason: str | None = None,
    **details: Any,
) -> AuditEntry:
    entry = AuditEntry(
        action=action,
        actor_id=actor.id if actor is not None else None,
        actor_role=actor.role if actor is not None else None,
        target_type=target.__tablename__ if target is not None else None,
        target_id=target.id if target is not None else None,
        round_id=round_id,
        reason=reason,
        details=details,
    )
    db.session.add(entry)
    return entry
