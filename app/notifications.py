"""Notification mails, derived from the audit log by the mail sender before each pass.

Every decision that concerns a proposal is audited in the same transaction as the
decision itself, so the audit log is a complete, ordered record of what to tell people;
reading it here keeps the domain services free of mail code. A cursor row
(``notification_cursors``) remembers the last entry read; advancing it is a
compare-and-set in the same transaction as the queued mails, so two senders never queue
the same notification twice and a crash loses none.

- authors (``notify_own_proposals``, on by default): their proposal was approved after
  review, rejected (with the moderator's reason) or put on the council's agenda;
- people who voted on an agenda item (``notify_council_answers``, opt-in): the council
  answered it.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.agenda.forms import OUTCOME_LABELS
from app.mail import external_url, queue_mail
from deliberation.database import db
from deliberation.models import (
    AuditEntry,
    Escalation,
    NotificationCursor,
    OfficialResponse,
    Participant,
    Proposal,
    User,
    Vote,
)

CURSOR = "notifications"
BATCH = 200


def _cursor() -> int | None:
    return db.session.scalar(
        sa.select(NotificationCursor.last_audit_id).where(NotificationCursor.name == CURSOR))


def queue_due() -> int:
    """Queue the mails for audit entries since the cursor; returns how many were queued."""
    last = _cursor()
    newest = db.session.scalar(sa.select(sa.func.max(AuditEntry.id))) or 0
    if last is None:  # first run: start now, do not mail about the past
        db.session.add(NotificationCursor(name=CURSOR, last_audit_id=newest))
        db.session.commit()
        return 0
    entries = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.id > last).order_by(AuditEntry.id).limit(BATCH)
    ).all()
    if not entries:
        db.session.rollback()
        return 0
    queued = sum(_notify(entry) for entry in entries)
    moved = db.session.execute(
        sa.update(NotificationCursor)
        .where(NotificationCursor.name == CURSOR, NotificationCursor.last_audit_id == last)
        .values(last_audit_id=entries[-1].id)
    ).rowcount
    if moved != 1:  # another sender read these entries first
        db.session.rollback()
        return 0
    db.session.commit()
    return queued


def _author(proposal: Proposal | None) -> User | None:
    if proposal is None or proposal.author is None or proposal.author.user is None:
        return None
    user = proposal.author.user
    if user.email is None or user.deleted_at is not None or not user.notify_own_proposals:
        return None
    return user


def _notify(entry: AuditEntry) -> int:
    if entry.action in ("proposal.approve", "proposal.reject") and entry.target_id:
        details = entry.details or {}
        if entry.action == "proposal.approve" and details.get("status_before") != "pending":
            return 0
        proposal = db.session.get(Proposal, entry.target_id)
        author = _author(proposal)
        if author is None:
            return 0
        approved = entry.action == "proposal.approve"
        queue_mail(
            to=author.email, purpose="proposal_" + ("approved" if approved else "rejected"),
            template="proposal_approved" if approved else "proposal_rejected",
            subject=(lambda: _l("Your proposal has been published")) if approved
            else (lambda: _l("Your proposal was not published")),
            locale=author.locale, user=author, proposal=proposal, reason=entry.reason or "",
            link=external_url("rounds.mine", slug=proposal.round.slug),
        )
        return 1
    if entry.action in ("escalation.automatic", "escalation.manual") and entry.target_id:
        escalation = db.session.get(Escalation, entry.target_id)
        author = _author(escalation.proposal if escalation else None)
        if author is None:
            return 0
        queue_mail(
            to=author.email, purpose="proposal_escalated", template="proposal_escalated",
            subject=lambda: _l("Your proposal is on the council's agenda"),
            locale=author.locale, user=author, proposal=escalation.proposal,
            link=external_url("agenda.public_item", escalation_id=escalation.id),
        )
        return 1
    if entry.action == "response.updated" and entry.target_id:
        details = entry.details or {}
        before = details.get("before") or {}
        if details.get("status") != "answered" or (
                before.get("status") == "answered" and before.get("outcome") == details.get("outcome")):
            return 0
        response = db.session.get(OfficialResponse, entry.target_id)
        if response is None:
            return 0
        escalation = response.escalation
        voters = db.session.scalars(
            sa.select(User).distinct()
            .join(Participant, Participant.user_id == User.id)
            .join(Vote, sa.and_(Vote.round_id == Participant.round_id,
                                Vote.participant_id == Participant.id))
            .where(Vote.round_id == escalation.round_id,
                   Vote.proposal_id == escalation.proposal_id,
                   User.notify_council_answers.is_(True), User.email.is_not(None),
                   User.deleted_at.is_(None))
            .order_by(User.id)
        ).all()
        for voter in voters:
            queue_mail(
                to=voter.email, purpose="council_answer", template="council_answer",
                subject=lambda: _l("The council has answered a proposal you voted on"),
                locale=voter.locale, user=voter, proposal=escalation.proposal,
                response=response, outcome=OUTCOME_LABELS.get(response.outcome, ""),
                link=external_url("agenda.public_item", escalation_id=escalation.id),
            )
        return len(voters)
    return 0
