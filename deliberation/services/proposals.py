"""Proposals: submission (with duplicate detection) and a participant's own proposals."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination

from deliberation.database import db
from deliberation.errors import N_, Conflict, DomainError
from deliberation.models import (
    ClusterSnapshot,
    Escalation,
    OfficialResponse,
    Participant,
    Proposal,
    Round,
    SnapshotProposalStat,
    User,
    Vote,
    audit,
)
from deliberation.models.snapshot import newest_ok_snapshot
from deliberation.services import search
from deliberation.services.participants import participant_for
from deliberation.services.snapshot_requests import request_snapshot
from deliberation.services.votes import author_auto_vote
from deliberation.text import clean_text, text_key

MAX_LENGTH = 280  # characters of a proposal written by a citizen
ALREADY_EXISTS = N_("The same proposal already exists in this round.")


def find_duplicate(round_: Round, key: str, *, besides: int | None = None) -> Proposal | None:
    """The oldest proposal of the round with this text key that was not rejected, other
    than proposal ``besides``."""
    query = sa.select(Proposal).where(
        Proposal.round_id == round_.id,
        Proposal.text_key == key,
        Proposal.status != "rejected",
    )
    if besides is not None:
        query = query.where(Proposal.id != besides)
    return db.session.scalar(query.order_by(Proposal.id).limit(1))


def lock_proposals(round_: Round) -> None:
    """Make the requests that add proposals to the round take turns until they commit, so
    that a proposal looked for after its own insert sees any other one added meanwhile.

    PostgreSQL: the round's row is locked FOR NO KEY UPDATE, which votes and other rows
    that only point at the round do not wait for. SQLite ignores the lock, but runs one
    writer at a time: the insert that follows waits for the database's write lock, and
    whatever is read after it sees every proposal committed before."""
    db.session.execute(sa.select(Round.id).where(Round.id == round_.id)
                       .with_for_update(key_share=True))


def submit_proposal(round_: Round, user: User, text: Any) -> Proposal:
    """Submit a proposal. Strict rounds hold it as "pending"; open rounds publish it."""
    if not round_.accepts_proposals:
        raise DomainError(N_("This round is not accepting proposals at the moment."),
                          phase=round_.phase)
    if not isinstance(text, str):
        raise DomainError(N_("Please write your proposal."))
    cleaned = clean_text(text)
    if not cleaned:
        raise DomainError(N_("Please write your proposal."))
    if len(cleaned) > MAX_LENGTH:
        raise DomainError(N_("A proposal can be at most %(max_length)d characters long."),
                          max_length=MAX_LENGTH)
    key = text_key(cleaned)
    if not key:
        raise DomainError(N_("Please write your proposal in words."))
    duplicate = find_duplicate(round_, key)
    if duplicate is not None:
        raise Conflict(ALREADY_EXISTS, proposal_id=duplicate.id)
    participant = participant_for(round_, user)  # commits a new participant
    assert participant is not None
    status = "pending" if round_.moderation_mode == "strict" else "published"
    proposal = Proposal(
        round_id=round_.id, author_id=participant.id, text=cleaned, text_key=key, status=status
    )
    try:
        lock_proposals(round_)
        db.session.add(proposal)
        db.session.flush()
        # The same text sent twice at once (a double click) passed the check above twice.
        duplicate = find_duplicate(round_, key, besides=proposal.id)
        if duplicate is not None:
            raise Conflict(ALREADY_EXISTS, proposal_id=duplicate.id)
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


BROWSE_STATUSES = ("agenda", "answered")  # besides "" (all published proposals)
BROWSE_SORTS = ("newest", "votes", "agreed")
BROWSE_VOTED = ("voted", "not_voted")


def browse(round_: Round, terms: list[str], *, status: str = "", voted: str = "",
           participant: Participant | None = None, sort: str = "newest", page: int = 1,
           per_page: int = 20) -> Pagination:
    """One page of the round's published proposals matching the search and filters.

    ``terms`` come from ``search.terms_of``; unknown ``status``/``sort``/``voted`` values
    mean no filter and the default order; ``voted`` filters on ``participant``'s votes. A page past the
    end gives the last page.
    """
    query = sa.select(Proposal).where(Proposal.round_id == round_.id, Proposal.status == "published")
    if terms:
        query = query.where(search.proposal_text_matches(
            Proposal.id, Proposal.text, terms, db.session.get_bind().dialect.name))
    if status in BROWSE_STATUSES:
        on_agenda = sa.select(Escalation.proposal_id).where(Escalation.withdrawn_at.is_(None))
        if status == "answered":
            on_agenda = on_agenda.join(OfficialResponse).where(OfficialResponse.status == "answered")
        query = query.where(Proposal.id.in_(on_agenda))
    if voted in BROWSE_VOTED:
        # Without a participant nobody has voted yet: "voted" is empty, "not voted" is all.
        mine = sa.select(Vote.proposal_id).where(
            Vote.round_id == round_.id,
            Vote.participant_id == (participant.id if participant is not None else None))
        query = query.where(Proposal.id.in_(mine) if voted == "voted" else Proposal.id.not_in(mine))
    if sort in ("votes", "agreed"):
        # The counts of the latest snapshot, as the results page shows them, not the live
        # votes: an order that moved with each vote would tell whoever watched someone
        # vote (a workshop, a shared screen) which proposal they agreed with.
        stat = SnapshotProposalStat
        counted = (stat.agree + stat.disagree + stat.passes) if sort == "votes" else stat.agree
        counts = (sa.select(stat.proposal_id, counted.label("n"))
                  .where(stat.snapshot_id == newest_ok_snapshot(ClusterSnapshot.id,
                                                                round_id=round_.id)
                         .scalar_subquery(),
                         stat.group_id.is_(None)).subquery())
        query = (query.outerjoin(counts, counts.c.proposal_id == Proposal.id)
                 .order_by(sa.func.coalesce(counts.c.n, 0).desc(), Proposal.id.desc()))
    else:
        query = query.order_by(Proposal.id.desc())
    return search.page_of(query, page, per_page)
