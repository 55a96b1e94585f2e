"""Rounds as everyone may see them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from deliberation.database import db
from deliberation.models import AuditEntry, Round, VoteEvent

# The settings that decide what escalates: the rule, how the groups are drawn, and who may
# vote (a change of them is audited with its old value and listed on the round's page).
RULE_SETTINGS = ("threshold_policy", "clustering_method", "max_groups", "eligibility")


def public_rounds() -> list[Round]:
    """Every round past its draft, newest first."""
    return list(db.session.scalars(
        sa.select(Round).where(Round.phase != "draft").order_by(Round.created_at.desc())))


@dataclass(frozen=True)
class RuleChange:
    """A change of the settings that decide what escalates: when, and each changed
    setting's value before and after (only the settings in ``RULE_SETTINGS``)."""

    at: datetime
    before: dict[str, Any]
    after: dict[str, Any]


def rule_changes(round_id: int) -> list[RuleChange]:
    """Every change of the round's escalation rule, grouping method, maximum number of
    groups or eligibility, oldest first, from the audit log (which records them with their old values).
    Public: what decides an escalation must not change unseen. Changes made before anyone
    voted in the round (setting it up) are left out: they cannot have aimed at an outcome."""
    entries = db.session.execute(
        sa.select(AuditEntry.created_at, AuditEntry.details)
        .where(AuditEntry.round_id == round_id, AuditEntry.action == "round.update")
        .order_by(AuditEntry.created_at, AuditEntry.id)).all()
    changes = []
    for at, details in entries:
        changed, before = (details or {}).get("changed", {}), (details or {}).get("before", {})
        keys = [key for key in RULE_SETTINGS if key in changed]
        if keys:
            changes.append(RuleChange(at, {k: before.get(k) for k in keys},
                                      {k: changed[k] for k in keys}))
    if not changes:
        return []
    # The round's first vote event, down its (round_id, id) index.
    first_vote = db.session.scalar(
        sa.select(VoteEvent.created_at).where(VoteEvent.round_id == round_id)
        .order_by(VoteEvent.id).limit(1))
    if first_vote is None:
        return []
    return [change for change in changes if change.at >= first_vote]
