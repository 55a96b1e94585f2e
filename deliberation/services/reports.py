"""Reports of proposals by citizens; enough reports hide a proposal for review."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from deliberation.database import db
from deliberation.errors import N_, Conflict, DomainError, NotFound
from deliberation.models import Proposal, Report, Round, User
from deliberation.services import audit
from deliberation.services.participants import check_eligible
from deliberation.services.snapshot_requests import request_snapshot
from deliberation.text import clean_text


def report_proposal(proposal: Proposal, user: User, reason: Any) -> Report:
    """Report a proposal. At ``round.report_threshold`` reports it is hidden for review.

    Only someone who may take part in the round may report (enough reports hide a
    proposal, so this is taking part too)."""
    round_ = db.session.get(Round, proposal.round_id)
    assert round_ is not None
    check_eligible(round_, user)
    reason = clean_text(reason) if isinstance(reason, str) else ""
    if not reason:
        raise DomainError(N_("Please say why you report this proposal."))
    if len(reason) > 1000:
        raise DomainError(N_("The reason can be at most 1000 characters long."))
    if proposal.status not in {"published", "hidden"}:
        raise NotFound(N_("There is no such proposal in this round."))
    exists = db.session.scalar(
        sa.select(Report.id).where(Report.proposal_id == proposal.id,
                                   Report.reporter_id == user.id)
    )
    if exists is not None:
        raise Conflict(N_("You have already reported this proposal."))
    report = Report(proposal_id=proposal.id, reporter_id=user.id, reason=reason)
    try:
        db.session.add(report)
        db.session.flush()
        db.session.execute(
            sa.update(Proposal)
            .where(Proposal.id == proposal.id)
            .values(report_count=Proposal.report_count + 1)
        )
        db.session.refresh(proposal)
        hidden = False
        if proposal.status == "published" and proposal.report_count >= round_.report_threshold:
            proposal.status = "hidden"
            hidden = True
            request_snapshot(round_)
        audit.record("proposal.report", actor=user, target=proposal, round_id=round_.id,
                     reason=reason, report_count=proposal.report_count, hidden=hidden)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(N_("You have already reported this proposal.")) from None
    except Exception:
        db.session.rollback()
        raise
    return report
