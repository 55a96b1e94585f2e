"""Writing to the audit log. Callers commit; the entry joins their transaction."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from deliberation.database import db
from deliberation.interop import csvfile
from deliberation.models import AuditEntry, Round, User

CSV_HEADER = ("id", "created_at_utc", "actor", "actor_role", "action", "target_type",
              "target_id", "round", "reason", "details")


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


def entries_query(round_id: int | None = None) -> sa.Select:
    """The log, newest first; one round's entries when ``round_id`` is given."""
    query = sa.select(AuditEntry).order_by(AuditEntry.id.desc())
    if round_id is not None:
        query = query.where(AuditEntry.round_id == round_id)
    return query


def export_csv(round_id: int | None = None) -> str:
    """The log as CSV for Excel (UTF-8 with BOM), newest first."""
    users = dict(db.session.execute(sa.select(User.id, User.display_name)).tuples().all())
    slugs = dict(db.session.execute(sa.select(Round.id, Round.slug)).tuples().all())
    rows = ([e.id, e.created_at.isoformat(), users.get(e.actor_id, ""), e.actor_role or "",
             e.action, e.target_type or "", e.target_id if e.target_id is not None else "",
             slugs.get(e.round_id, ""), e.reason or "",
             json.dumps(e.details or {}, ensure_ascii=False, sort_keys=True)]
            for e in db.session.scalars(entries_query(round_id)))
    return csvfile.write(rows, header=CSV_HEADER, bom=True)
