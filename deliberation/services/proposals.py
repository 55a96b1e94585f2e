"""Proposals: submission (with duplicate detection) and a participant's own proposals."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from deliberation.database import db
from deliberation.errors import N_, Conflict, DomainError
from deliberation.models import Proposal, Round, User
from deliberation.services import audit
from deliberation.services.participants import participant_for
from deliberation.services.snapshot_requests import request_snapshot
from deliberation.services.votes import author_auto_vote
from deliberation.text import clean_text, text_key

MAX_LENGTH = 280  # characters of a proposal written by a citizen


def find_duplicate(round_: Round, key: str) -> Proposal | None:
    return db.session.scalar(
        sa.select(Proposal)
        .where(
            Proposal.round_id == round_.id,
            Proposal.text_key == key,
            Proposal.status != "rejected",
        )
        .order_by(Proposal.id)
        .limit(1)
    )


def submit_proposal(
    round_: Round, user: User, text: Any, *, max_length: int = MAX_LENGTH
) -> Proposal:
    """Submit a proposal. Strict rounds hold it as "pending"; open rounds publish it."""
    if not round_.accepts_proposals:
        raise DomainError(N_("This round is not accepting proposals at the moment."),
                          phase=round_.phase)
    if not isinstance(text, str):
        raise DomainError(N_("Please write your proposal."))
    cleaned = clean_text(text)
    if not cleaned:
        raise DomainError(N_("Please write your proposal."))
    if len(cleaned) > max_length:
        raise DomainError(N_("A proposal can be at most %(max_length)d characters long."),
                          max_length=max_length)
    key = text_key(cleaned)
    if not key:
        raise DomainError(N_("Please write your proposal in words."))
    duplicate = find_duplicate(round_, key)
    if duplicate is not None:
        raise Conflict(N_("The same proposal already exists in this round."),
                       proposal_id=duplicate.id)
    participant = participant_for(round_, user)
    assert participant is not None
    status = "pending" if round_.moderation_mode == "strict" else "published"
    proposal = Proposal(
        round_id=round_.id, author_id=participant.id, text=cleaned, text_key=key, status=status
    )
    try:
        db.session.add(proposal)
        db.session.flush()
        audit.record("proposal.submit", actor=user, target=proposal, round_id=round_.id,
                     status=status)
        if status == "published":
            author_auto_vote(proposal)
            request_snapshot(round_)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return proposal


def proposals_by(round_: Round, user: User) -> list[Proposal]:
    participant = participant_for(round_, user, create=False)
    if participant is None:
        return []
    return list(
        db.session.scalars(
            sa.select(Proposal)
            .where(Proposal.round_id == round_.id, Proposal.author_id == participant.id)
            .order_by(Proposal.id.desc())
        )
    )


def published(round_: Round) -> list[Proposal]:
    """The round's published proposals, oldest first."""
    return list(db.session.scalars(
        sa.select(Proposal)
        .where(Proposal.round_id == round_.id, Proposal.status == "published")
        .order_by(Proposal.id)
    ))


def in_round(round_: Round, proposal_id: int) -> Proposal | None:
    """Proposal ``proposal_id`` if it belongs to ``round_`` (any status)."""
    proposal = db.session.get(Proposal, proposal_id)
    return proposal if proposal is not None and proposal.round_id == round_.id else None


def voted_on(votes: dict[int, int]) -> list[Proposal]:
    """The proposals of ``votes`` ({proposal_id: value}), oldest first."""
    if not votes:
        return []
    return list(db.session.scalars(
        sa.select(Proposal).where(Proposal.id.in_(votes)).order_by(Proposal.id)))
