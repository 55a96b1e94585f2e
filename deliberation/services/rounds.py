"""Rounds as everyone may see them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from deliberation.database import db
from deliberation.models import AuditEntry, Round, VoteEvent

# The settings that decide what escalates: the rule, how the groups are drawn, and who may
# vote. An agenda item escalated before one of them changed says it was judged by the
# rule frozen in its evidence.
RULE_SETTINGS = ("threshold_policy", "clustering_method", "max_groups", "eligibility")
# Everything a facilitator can change that decides which proposals can escalate: the rule
# above, how many reports hide a proposal for review and whether new proposals wait for
# approval (only published proposals escalate), and whether escalation is armed at all.
# Each change is audited with its old value and listed on the round's public page.
LISTED_SETTINGS = (*RULE_SETTINGS, "report_threshold", "reports_need_participation",
                   "report_support_step", "moderation_mode", "escalation_armed")
ARMING_ACTIONS = {"round.escalation_armed": True, "round.escalation_disarmed": False}


def public_rounds() -> list[Round]:
    """Every round past its draft, newest first."""
    return list(db.session.scalars(
        sa.select(Round).where(Round.phase != "draft").order_by(Round.created_at.desc())))


@dataclass(frozen=True)
class RuleChange:
    """A change of the settings that decide what escalates: when, and each changed
    setting's value before and after (only the settings asked for)."""

    at: datetime
    before: dict[str, Any]
    after: dict[str, Any]


def rule_changes(round_id: int, settings: tuple[str, ...] = RULE_SETTINGS
                 ) -> list[RuleChange]:
    """Every change of the round's ``settings`` (by default the rule, the grouping method,
    the maximum number of groups and eligibility; ``LISTED_SETTINGS`` for the round's page),
    oldest first, from the audit log (which records them with their old values). Public:
    what decides an escalation must not change unseen. Changes made before anyone voted in
    the round (setting it up) are left out: they cannot have aimed at an outcome."""
    actions = ["round.update"]
    if "escalation_armed" in settings:
        actions += ARMING_ACTIONS
    entries = db.session.execute(
        sa.select(AuditEntry.created_at, AuditEntry.action, AuditEntry.details)
        .where(AuditEntry.round_id == round_id, AuditEntry.action.in_(actions))
        .order_by(AuditEntry.created_at, AuditEntry.id)).all()
    changes = []
    for at, action, details in entries:
        if action in ARMING_ACTIONS:
            armed = ARMING_ACTIONS[action]
            changed, before = {"escalation_armed": armed}, {"escalation_armed": not armed}
        else:
            changed = (details or {}).get("changed", {})
            before = (details or {}).get("before", {})
        keys = [key for key in settings if key in changed]
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
