"""A person's rights over their data: download everything about them, delete the account.

Deleting an account erases the personal data (email, display name, password hash, locale)
and keeps the ``users`` row as an empty shell so that audit entries still resolve. The
person's ``Participant`` rows lose their link to the account (``user_id`` NULL), so their
votes and proposals stay in the statistics under the participant's anonymous id.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from deliberation.database import db
from deliberation.errors import DomainError
from deliberation.models import Participant, Proposal, Report, Round, User, Vote
from deliberation.models._common import utcnow
from deliberation.services import audit

EXPORT_FORMAT = "hiroba-my-data/1"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def export_data(user: User) -> dict[str, Any]:
    """Everything stored about the account, as JSON-serialisable data."""
    participants = db.session.scalars(
        sa.select(Participant).where(Participant.user_id == user.id).order_by(Participant.id)
    ).all()
    rounds = {r.id: r for r in db.session.scalars(
        sa.select(Round).where(Round.id.in_([p.round_id for p in participants]))
    )}
    participant_ids = [p.id for p in participants]
    votes = db.session.execute(
        sa.select(Vote, Proposal)
        .join(Proposal, Proposal.id == Vote.proposal_id)
        .where(Vote.participant_id.in_(participant_ids))
        .order_by(Vote.id)
    ).all()
    proposals = db.session.scalars(
        sa.select(Proposal).where(Proposal.author_id.in_(participant_ids)).order_by(Proposal.id)
    ).all()
    reports = db.session.execute(
        sa.select(Report, Proposal)
        .join(Proposal, Proposal.id == Report.proposal_id)
        .where(Report.reporter_id == user.id)
        .order_by(Report.id)
    ).all()

    def round_ref(round_id: int) -> dict[str, Any]:
        round_ = rounds.get(round_id) or db.session.get(Round, round_id)
        return {"slug": round_.slug, "title": round_.title} if round_ else {}

    return {
        "format": EXPORT_FORMAT,
        "exported_at": _iso(utcnow()),
        "account": {
            "email": user.email,
            "display_name": user.display_name,
            "role": user.role,
            "kind": user.kind,
            "locale": user.locale,
            "created_at": _iso(user.created_at),
        },
        "consent": {"version": user.consent_version, "given_at": _iso(user.consented_at)},
        "participations": [
            {
                "round": round_ref(p.round_id),
                "anonymous_id": p.id,
                "kind": p.kind,
                "joined_at": _iso(p.created_at),
            }
            for p in participants
        ],
        "votes": [
            {
                "round": round_ref(v.round_id),
                "proposal_id": prop.id,
                "proposal_text": prop.text,
                "value": v.value,
                "voted_at": _iso(v.updated_at),
            }
            for v, prop in votes
        ],
        "proposals": [
            {
                "round": round_ref(p.round_id),
                "id": p.id,
                "text": p.text,
                "status": p.status,
                "created_at": _iso(p.created_at),
            }
            for p in proposals
        ],
        "reports": [
            {
                "proposal_id": prop.id,
                "proposal_text": prop.text,
                "reason": r.reason,
                "created_at": _iso(r.created_at),
                "resolution": r.resolution,
            }
            for r, prop in reports
        ],
    }


def delete_account(user: User, password: str) -> None:
    """Erase the account's personal data; votes and proposals stay, unlinked."""
    if user.deleted_at is not None:
        raise DomainError("This account has already been deleted.")
    if not user.check_password(password):
        raise DomainError("The password is wrong.")
    db.session.execute(
        sa.update(Participant).where(Participant.user_id == user.id).values(user_id=None)
    )
    db.session.execute(
        sa.update(Report).where(Report.reporter_id == user.id).values(reporter_id=None)
    )
    user.email = None
    user.display_name = ""
    user.password_hash = None
    user.locale = None
    user.deleted_at = utcnow()
    user.session_nonce = secrets.token_hex(8)  # every session of the account ends
    user.session_ids = ""
    audit.record("account.deleted", actor=None, target=user)
    db.session.commit()
