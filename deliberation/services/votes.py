"""Votes: casting one (the last vote wins, every vote is logged as a VoteEvent), the author's
own vote, a participant's current votes.

``cast`` is the one entry point for an account's vote, from the web pages and the API: it
checks the vote, starts the account's participation with its first vote, writes the vote
with one upsert and its event (``record_vote``, which staff's paper forms and the author's
own vote also use), reads the next voting card when asked, and commits. Messages are plain
English; views translate them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from deliberation.database import db
from deliberation.errors import N_, DomainError, NotFound
from deliberation.ids import parse_id
from deliberation.models import Participant, Proposal, Round, User, Vote, VoteEvent
from deliberation.models._common import UTCDateTime, utcnow
from deliberation.models.participation import VOTE_SOURCES, VOTE_VALUES
from deliberation.models.round import PHASES_ACCEPTING_VOTES
from deliberation.services.participants import check_eligible, participant_for
from deliberation.services.vote_card import VoteCard, vote_card

PHASE_CLOSED_MESSAGES = {
    "draft": N_("This round has not opened yet."),
    "reflection": N_("Voting has ended: this round is in its reflection phase."),
    "closed": N_("This round is closed for voting."),
}
VOTE_SPELLINGS = {"1": 1, "+1": 1, "-1": -1, "0": 0}

# The vote is written only if its proposal is published in the round: the check and the
# write are one statement, so a proposal hidden a moment earlier cannot still take a vote.
# The last vote wins; the same answer again (a double tap, a resent form) changes nothing
# and is not logged as another vote. Both databases run this statement as written, and
# SQLAlchemy compiles a text statement once and caches it, where its per-dialect
# ``insert`` constructs are compiled again on every vote.
UPSERT_VOTE = sa.text(
    "INSERT INTO votes (round_id, participant_id, proposal_id, value, created_at, updated_at)"
    " SELECT round_id, :participant_id, id, :value, :now, :now FROM proposals"
    " WHERE id = :proposal_id AND round_id = :round_id AND status = 'published'"
    " ON CONFLICT (round_id, participant_id, proposal_id)"
    " DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"
    " WHERE votes.value <> excluded.value"
    " RETURNING proposal_id"
).bindparams(sa.bindparam("now", type_=UTCDateTime()))
# A Core insert: the ORM's unit of work would cost about as much as the whole upsert, for
# a row that nothing reads back in the request.
INSERT_EVENT = sa.insert(VoteEvent.__table__)


@dataclass(frozen=True)
class CastVote:
    """A vote as stored: the participant's current value on the proposal, and the voting
    card that follows it when the caller asked for one."""

    participant: Participant
    proposal_id: int
    value: int
    next_card: VoteCard | None = None


def check_accepts_votes(round_: Round) -> None:
    if round_.accepts_votes:
        return
    if round_.phase in PHASES_ACCEPTING_VOTES:  # refused only because its time is up
        raise DomainError(N_("Voting in this round ended at its closing time."),
                          phase=round_.phase)
    raise DomainError(
        PHASE_CLOSED_MESSAGES.get(round_.phase, N_("This round is closed for voting.")),
        phase=round_.phase,
    )


def cast(
    round_: Round, user: User, participant: Participant | None, proposal_id: Any, value: Any,
    *, source: str = "web", next_card: bool = False,
) -> CastVote:
    """Cast or change ``user``'s vote on a published proposal of ``round_`` and commit.

    ``participant`` is the account's participant in the round as read with it
    (``round_with_participant``), None before its first vote: the participation starts
    with the first vote that is accepted, so a refused vote leaves nothing behind.
    ``proposal_id`` and ``value`` are taken as sent (form fields or JSON). Raises a
    DomainError (NotAllowed when the account may not take part, NotFound for a proposal
    that is not in the round) and stores nothing when the round does not take votes, the
    value is not agree (1), disagree (-1) or pass (0), or the proposal is not published.
    With ``next_card``, the result carries the card the participant sees next.
    """
    check_eligible(round_, user)
    check_accepts_votes(round_)
    parsed = _parse_value(value)
    pid = _parse_proposal_id(proposal_id)
    if participant is None:
        check_votable(round_, pid)  # before the participant is created
        participant = participant_for(round_, user)
        assert participant is not None
    elif participant.round_id != round_.id or participant.user_id != user.id:
        raise ValueError("not the account's participant in this round")  # a caller's mistake
    session = db.session()
    try:
        record_vote(round_, participant, pid, parsed, source)
        # Read in the vote's transaction, the card counts the new vote, and the request
        # needs no second connection, ping and transaction for it.
        card = vote_card(round_, participant) if next_card else None
        # The vote changed none of the objects that the request goes on to show (round,
        # participant, account): keep them loaded instead of reading them again.
        session.expire_on_commit = False
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.expire_on_commit = True
    return CastVote(participant, pid, parsed, card)


def record_vote(
    round_: Round, participant: Participant, proposal_id: int, value: int, source: str
) -> None:
    """Write a vote and its event, without committing (for ``cast``, the author's own vote
    and assisted participants' paper forms). The same answer as the standing vote writes
    nothing.

    Raises NotFound or DomainError and writes nothing when ``proposal_id`` is not a
    published proposal of ``round_``.
    """
    if source not in VOTE_SOURCES:
        raise DomainError(N_("Unknown vote source %(source)s."), source=source)
    now = utcnow()
    written = db.session.execute(UPSERT_VOTE, {
        "round_id": round_.id, "participant_id": participant.id, "proposal_id": proposal_id,
        "value": value, "now": now,
    }).first()
    if written is None:  # not votable, or the same answer again
        check_votable(round_, proposal_id)
        if standing_value(round_.id, participant.id, proposal_id) != value:
            # published only after the upsert read it: nothing was written
            raise DomainError(N_("This proposal is not open for voting."))
        return
    db.session.execute(INSERT_EVENT, {
        "round_id": round_.id, "participant_id": participant.id, "proposal_id": proposal_id,
        "value": value, "source": source, "created_at": now,
    })


# One answer for every id that is not a published proposal of the round: a pending,
# rejected or hidden proposal answered otherwise than an id nobody uses, so anyone could
# list the unpublished proposals' ids (and so when they were written) by voting on ids.
NOT_VOTABLE = N_("This proposal is not open for voting: there is no published proposal "
                 "with this number in this round.")


def _parse_value(value: Any) -> int:
    parsed = VOTE_SPELLINGS.get(value.strip()) if isinstance(value, str) else None
    if isinstance(value, int) and not isinstance(value, bool) and value in VOTE_VALUES:
        parsed = value
    if parsed is None:
        raise DomainError(N_("A vote must be agree (1), disagree (-1) or pass (0)."))
    return parsed


def _parse_proposal_id(proposal_id: Any) -> int:
    pid = parse_id(proposal_id)
    if pid is None:
        raise NotFound(NOT_VOTABLE)
    return pid


def standing_value(round_id: int, participant_id: int, proposal_id: int) -> int | None:
    """The participant's current vote on the proposal, None if they have not voted on it."""
    return db.session.scalar(sa.select(Vote.value).where(
        Vote.round_id == round_id, Vote.participant_id == participant_id,
        Vote.proposal_id == proposal_id))


def check_votable(round_: Round, proposal_id: int) -> None:
    """Raise NotFound when ``proposal_id`` is not a published proposal of ``round_``,
    the same whether it is unpublished, of another round or no proposal at all."""
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or proposal.round_id != round_.id or proposal.status != "published":
        raise NotFound(NOT_VOTABLE)


def author_auto_vote(proposal: Proposal) -> None:
    """The author agrees with their own proposal (as in Pol.is). Does not commit.

    Call when a proposal becomes published (at submission in open rounds, at approval in
    strict ones). Does nothing for proposals without an author or already voted on.
    """
    if proposal.author_id is None or proposal.status != "published":
        return
    existing = standing_value(proposal.round_id, proposal.author_id, proposal.id)
    author = db.session.get(Participant, proposal.author_id)
    if existing is not None or author is None:
        return
    round_ = db.session.get(Round, proposal.round_id)
    assert round_ is not None
    record_vote(round_, author, proposal.id, 1, "web")


def votes_of(participant: Participant) -> dict[int, int]:
    """{proposal_id: value} of a participant's current votes."""
    rows = db.session.execute(
        sa.select(Vote.proposal_id, Vote.value).where(
            Vote.round_id == participant.round_id, Vote.participant_id == participant.id)
    ).all()
    return {pid: value for pid, value in rows}
