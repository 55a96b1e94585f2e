"""Reports of proposals by citizens; enough reports hide a proposal for review."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from deliberation.database import add_unique, db
from deliberation.engine.coordination import flagged_participants
from deliberation.errors import N_, Conflict, DomainError, NotFound
from deliberation.models import Participant, Proposal, Report, Round, User, Vote, audit
from deliberation.models._common import utcnow
from deliberation.models.snapshot import latest_snapshot
from deliberation.services import accounts
from deliberation.services.participants import check_eligible
from deliberation.services.snapshot_requests import request_snapshot
from deliberation.text import clean_text

MAX_REASON_LENGTH = 1000  # characters of the reason for a report


def reports_needed(threshold: int, agrees: int, step: int) -> int:
    """Counting reports needed to hide a proposal with ``agrees`` agree votes."""
    return max(threshold, 1) + (agrees // step if step > 0 else 0)


# A confirmed address costs a bot one more request, so a report from an account with only a
# confirmed address counts once the account is this old: a burst of accounts registered,
# confirmed and voting within the hour cannot hide what the town supports. Residents the
# town verified count at once.
REPORTER_MIN_ACCOUNT_AGE = timedelta(days=1)


def counting_reports(proposal: Proposal, round_: Round) -> int:
    """Open reports on the proposal that count towards hiding it: from verified residents,
    each, or from accounts with a confirmed e-mail address older than
    ``REPORTER_MIN_ACCOUNT_AGE``, one per inbox (``accounts.mailbox``: hanako+1@ and
    hanako+2@ are one person's, however many accounts they confirmed); when the round
    asks for it, only from accounts that have voted in the round; never from accounts the
    latest snapshot flagged as a coordinated block."""
    established = sa.or_(
        User.verification_level == "resident_verified",
        sa.and_(User.verification_level == "email",
                User.created_at <= utcnow() - REPORTER_MIN_ACCOUNT_AGE))
    query = (sa.select(User.verification_level, User.email).select_from(Report)
             .join(User, User.id == Report.reporter_id)
             .where(Report.proposal_id == proposal.id, Report.resolved_at.is_(None),
                    established))
    snapshot = latest_snapshot(round_.id)
    flagged = flagged_participants(snapshot) if snapshot is not None else set()
    if flagged:
        query = query.where(Report.reporter_id.not_in(
            sa.select(Participant.user_id).where(Participant.id.in_(flagged),
                                                 Participant.user_id.is_not(None))))
    if round_.reports_need_participation:
        voted = (sa.select(Participant.user_id)
                 .join(Vote, sa.and_(Vote.round_id == Participant.round_id,
                                     Vote.participant_id == Participant.id))
                 .where(Participant.round_id == round_.id, Participant.user_id.is_not(None)))
        query = query.where(Report.reporter_id.in_(voted))
    rows = db.session.execute(query).all()
    verified = sum(1 for level, _email in rows if level == "resident_verified")
    inboxes = {accounts.mailbox(email) for level, email in rows
               if level != "resident_verified" and email}
    return verified + len(inboxes)


def report_proposal(proposal: Proposal, user: User, reason: Any) -> Report:
    """Report a proposal. Only someone who may take part in the round may report. Enough
    counting reports (``counting_reports``, against ``reports_needed``) hide it for a
    facilitator's review; every report is kept for the moderation queue."""
    round_ = db.session.get(Round, proposal.round_id)
    assert round_ is not None
    check_eligible(round_, user)
    reason = clean_text(reason) if isinstance(reason, str) else ""
    if not reason:
        raise DomainError(N_("Please say why you report this proposal."))
    if len(reason) > MAX_REASON_LENGTH:
        raise DomainError(N_("The reason can be at most %(num)d characters long."),
                          num=MAX_REASON_LENGTH)
    if proposal.status not in {"published", "hidden"}:
        raise NotFound(N_("There is no such proposal in this round."))
    already = Conflict(N_("You have already reported this proposal."))
    exists = db.session.scalar(
        sa.select(Report.id).where(Report.proposal_id == proposal.id,
                                   Report.reporter_id == user.id)
    )
    if exists is not None:
        raise already
    report = Report(proposal_id=proposal.id, reporter_id=user.id, reason=reason)
    add_unique(report, already)  # one report per person and proposal, also sent twice at once
    try:
        db.session.execute(
            sa.update(Proposal)
            .where(Proposal.id == proposal.id)
            .values(report_count=Proposal.report_count + 1)
        )
        db.session.refresh(proposal)
        hidden = False
        counting = counting_reports(proposal, round_)
        # The round narrows the read to the round's part of its votes index.
        agrees = db.session.scalar(sa.select(sa.func.count()).select_from(Vote).where(
            Vote.round_id == round_.id, Vote.proposal_id == proposal.id, Vote.value == 1)) or 0
        needed = reports_needed(round_.report_threshold, agrees, round_.report_support_step)
        if proposal.status == "published" and counting >= needed:
            proposal.status = "hidden"
            hidden = True
            request_snapshot(round_)
        audit.record("proposal.report", actor=user, target=proposal, round_id=round_.id,
                     reason=reason, report_count=proposal.report_count, counting=counting,
                     needed=needed, hidden=hidden)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return report
