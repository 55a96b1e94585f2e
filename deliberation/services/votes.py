"""Votes: casting and changing them (every change logged as a VoteEvent), the author's own
vote, a participant's current votes.

Every public function owns its transaction unless it says otherwise. Messages are plain
English; views translate them.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any, NoReturn

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from deliberation.database import db
from deliberation.errors import DomainError, NotFound
from deliberation.ids import parse_id
from deliberation.models import Participant, Proposal, Round, Vote, VoteEvent
from deliberation.models._common import utcnow
from deliberation.models.participation import VOTE_SOURCES, VOTE_VALUES
from deliberation.plain_rows import PlainRowsStatement
from deliberation.services.snapshot_requests import request_snapshot
from deliberation.services.vote_card import VoteCard, _card_from_rows, _card_rows, vote_card

PHASE_CLOSED_MESSAGES = {
    "draft": "This round has not opened yet.",
    "reflection": "Voting has ended: this round is in its reflection phase.",
    "closed": "This round is closed for voting.",
}


def check_accepts_votes(round_: Round) -> None:
    if not round_.accepts_votes:
        raise DomainError(
            PHASE_CLOSED_MESSAGES.get(round_.phase, "This round is closed for voting."),
            phase=round_.phase,
        )


def _parse_vote_value(value: Any) -> int:
    if isinstance(value, bool):
        raise DomainError("A vote must be agree (1), disagree (-1) or pass (0).")
    try:
        parsed = int(str(value).strip())
    except (TypeError, ValueError):
        raise DomainError("A vote must be agree (1), disagree (-1) or pass (0).") from None
    if parsed not in VOTE_VALUES or str(value).strip() not in {"1", "-1", "0", "+1"}:
        raise DomainError("A vote must be agree (1), disagree (-1) or pass (0).")
    return parsed


# --------------------------------------------------------------------------- voting


def _vote_parameters(sql: str) -> sa.TextClause:
    columns = Vote.__table__.c
    return sa.text(sql).bindparams(
        sa.bindparam("round_id", type_=columns.round_id.type),
        sa.bindparam("participant_id", type_=columns.participant_id.type),
        sa.bindparam("proposal_id", type_=columns.proposal_id.type),
        sa.bindparam("value", type_=columns.value.type),
        sa.bindparam("now", type_=columns.created_at.type),
    )


# Upserts in the SQL that PostgreSQL and SQLite (3.35+) share. Written as text because
# SQLAlchemy does not cache the compiled dialect ``on_conflict_do_update`` constructs, and
# these run on every vote (issue 7: the busiest request).
_UPSERT_VOTE = _vote_parameters(
    "INSERT INTO votes (round_id, participant_id, proposal_id, value, created_at, updated_at) "
    "VALUES (:round_id, :participant_id, :proposal_id, :value, :now, :now) "
    "ON CONFLICT (participant_id, proposal_id) "
    "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"
)
# The same, only if the proposal is published in the round (no row returned otherwise):
# the check and the write in one statement.
_UPSERT_IF_PUBLISHED_SQL = (
    "INSERT INTO votes (round_id, participant_id, proposal_id, value, created_at, updated_at) "
    "SELECT :round_id, :participant_id, proposals.id, :value, :now, :now FROM proposals "
    "WHERE proposals.id = :proposal_id AND proposals.round_id = :round_id "
    "AND proposals.status = 'published' "
    "ON CONFLICT (participant_id, proposal_id) "
    "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at "
    "RETURNING votes.proposal_id"
)
_UPSERT_VOTE_IF_PUBLISHED = _vote_parameters(_UPSERT_IF_PUBLISHED_SQL)
# PostgreSQL: the same and the vote's event in one statement (a data-modifying WITH, which
# SQLite lacks), one round trip less on every vote.
_EVENT_OF_WRITTEN_SQL = (
    "INSERT INTO vote_events (round_id, participant_id, proposal_id, value, source, created_at) "
    "SELECT :round_id, :participant_id, written.proposal_id, :value, :source, :now "
    "FROM written RETURNING vote_events.proposal_id"
)
_UPSERT_VOTE_AND_EVENT_IF_PUBLISHED = _vote_parameters(
    "WITH written AS (" + _UPSERT_IF_PUBLISHED_SQL + ") " + _EVENT_OF_WRITTEN_SQL
)
_UPSERT_DIALECTS = {"postgresql", "sqlite"}


# Core, not an ORM bulk insert: the ORM path costs more than the statement (issue 7).
_INSERT_EVENT = sa.insert(VoteEvent.__table__)


def _upsert_vote(
    round_id: int, participant_id: int, proposal_id: int, value: int, now: datetime
) -> None:
    if db.session.get_bind().dialect.name in _UPSERT_DIALECTS:
        db.session.connection().execute(_UPSERT_VOTE, {
            "round_id": round_id, "participant_id": participant_id,
            "proposal_id": proposal_id, "value": value, "now": now,
        })
        return
    values = {
        "round_id": round_id,
        "participant_id": participant_id,
        "proposal_id": proposal_id,
        "value": value,
        "created_at": now,
        "updated_at": now,
    }
    # Other backends: insert, and on a unique violation update instead.
    try:
        with db.session.begin_nested():
            db.session.add(Vote(**values))
    except IntegrityError:
        db.session.execute(
            sa.update(Vote)
            .where(Vote.participant_id == participant_id, Vote.proposal_id == proposal_id)
            .values(value=value, updated_at=now)
        )


def record_vote(
    round_: Round, participant: Participant, proposal: Proposal, value: int, source: str
) -> None:
    """Write the vote and its event without committing (shared with proposal submission)."""
    now = utcnow()
    _upsert_vote(round_.id, participant.id, proposal.id, value, now)
    _insert_event(round_.id, participant.id, proposal.id, value, source, now)
    request_snapshot(round_)


def _insert_event(
    round_id: int, participant_id: int, proposal_id: int, value: int, source: str, now: datetime
) -> None:
    db.session.connection().execute(_INSERT_EVENT, {
        "round_id": round_id, "participant_id": participant_id, "proposal_id": proposal_id,
        "value": value, "source": source, "created_at": now,
    })


def _parse_proposal_id(proposal_id: Any) -> int:
    parsed = parse_id(proposal_id)
    if parsed is None:
        raise NotFound("There is no such proposal in this round.")
    return parsed


def _refuse_unvotable(round_: Round, proposal_id: int) -> None:
    """Raise the reason why a vote on ``proposal_id`` was not written."""
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or proposal.round_id != round_.id:
        raise NotFound("There is no such proposal in this round.")
    if proposal.status != "published":
        raise DomainError("This proposal is not open for voting.", status=proposal.status)


def _checked_vote(
    round_: Round, participant: Participant, proposal_id: Any, value: Any, source: str
) -> dict[str, Any]:
    """The parameters of a vote after the checks that need no query (the proposal's own
    check is part of the write)."""
    if participant.round_id != round_.id:
        raise DomainError("This participant belongs to another round.")
    if source not in VOTE_SOURCES:
        raise DomainError(f"Unknown vote source {source!r}.")
    parsed = _parse_vote_value(value)
    pid = _parse_proposal_id(proposal_id)
    if db.session.get_bind().dialect.name not in _UPSERT_DIALECTS:
        _refuse_unvotable(round_, pid)
    check_accepts_votes(round_)
    return {"round_id": round_.id, "participant_id": participant.id, "proposal_id": pid,
            "value": parsed, "source": source, "now": utcnow()}


def _refuse_unwritten(round_: Round, proposal_id: int) -> NoReturn:
    """The vote was not written: raise why."""
    _refuse_unvotable(round_, proposal_id)
    # Published in the meantime (a moderator's approval): ask for a new try.
    raise DomainError("This proposal is not open for voting.")


def _write_vote(
    round_: Round, participant: Participant, proposal_id: Any, value: Any, source: str
) -> int:
    """Validate and write a vote and its event without committing; returns the proposal id."""
    values = _checked_vote(round_, participant, proposal_id, value, source)
    pid, parsed, now = values["proposal_id"], values["value"], values["now"]
    dialect = db.session.get_bind().dialect.name
    connection = db.session.connection()
    if dialect == "postgresql":  # vote and event in one statement
        written = connection.execute(_UPSERT_VOTE_AND_EVENT_IF_PUBLISHED, values).first()
    elif dialect == "sqlite":
        written = connection.execute(_UPSERT_VOTE_IF_PUBLISHED, values).first()
        if written is not None:
            _insert_event(round_.id, participant.id, pid, parsed, source, now)
    else:  # checked by _checked_vote
        _upsert_vote(round_.id, participant.id, pid, parsed, now)
        _insert_event(round_.id, participant.id, pid, parsed, source, now)
        written = (pid,)
    if written is None:
        _refuse_unwritten(round_, pid)
    request_snapshot(round_)
    return pid


def _commit_keeping_objects() -> None:
    """Commit, keeping this request's objects loaded: they were just read or written, and
    re-loading user, round and participant would add queries to the busiest request
    (issue 7, load benchmark)."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def cast_vote(
    round_: Round,
    participant: Participant,
    proposal_id: Any,
    value: Any,
    *,
    source: str = "web",
) -> Vote:
    """Cast or change a vote. Last change wins; every change is logged as a VoteEvent.

    Returns the stored vote.
    """
    try:
        pid = _write_vote(round_, participant, proposal_id, value, source)
        _commit_keeping_objects()
    except Exception:
        db.session.rollback()
        raise
    vote = db.session.scalar(
        sa.select(Vote)
        .where(Vote.participant_id == participant.id, Vote.proposal_id == pid)
        .execution_options(populate_existing=True)
    )
    assert vote is not None
    return vote


def cast_vote_and_pick_next(
    round_: Round,
    participant: Participant,
    proposal_id: Any,
    value: Any,
    *,
    rng: random.Random | None = None,
) -> VoteCard:
    """Cast a vote from the voting card and pick the next card, in one transaction.

    The card counts the vote just written. On PostgreSQL the vote, its event and the
    card's rows are one statement (issue 7: the busiest request); the vote view runs it on
    an autocommit connection (app/autocommit.py). Elsewhere: the write, then the card.
    """
    try:
        if db.session.get_bind().dialect.name == "postgresql":
            values = _checked_vote(round_, participant, proposal_id, value, "web")
            rows = _VOTE_AND_CARD_ROWS.all(db.session.connection(), values)
            if not rows or not rows[0][_WRITTEN_COLUMN]:  # a written vote's proposal is a row
                _refuse_unwritten(round_, values["proposal_id"])
            request_snapshot(round_)
            card = _card_from_rows(round_.id, rows, rng)
        else:
            _write_vote(round_, participant, proposal_id, value, "web")
            card = vote_card(round_, participant, rng=rng)
        _commit_keeping_objects()
    except Exception:
        db.session.rollback()
        raise
    return card


def author_auto_vote(proposal: Proposal) -> None:
    """The author agrees with their own proposal (as in Pol.is). Does not commit.

    Call when a proposal becomes published (at submission in open rounds, at approval in
    strict ones). Does nothing for proposals without an author or already voted on.
    """
    if proposal.author_id is None or proposal.status != "published":
        return
    round_ = proposal.round if proposal.round is not None else db.session.get(
        Round, proposal.round_id
    )
    existing = db.session.scalar(
        sa.select(Vote.id).where(
            Vote.participant_id == proposal.author_id, Vote.proposal_id == proposal.id
        )
    )
    if existing is not None:
        return
    author = db.session.get(Participant, proposal.author_id)
    if author is None:
        return
    record_vote(round_, author, proposal, 1, "web")


def votes_of(participant: Participant) -> dict[int, int]:
    """{proposal_id: value} of a participant's current votes."""
    rows = db.session.execute(
        sa.select(Vote.proposal_id, Vote.value).where(Vote.participant_id == participant.id)
    ).all()
    return {pid: value for pid, value in rows}


# PostgreSQL: the vote, its event and the next card's rows in one statement (data-modifying
# WITH): one round trip less on every vote from the card.
_PROPOSAL_ID = sa.column("proposal_id", Vote.__table__.c.proposal_id.type)
_WRITTEN = _vote_parameters(_UPSERT_IF_PUBLISHED_SQL).columns(_PROPOSAL_ID).cte("written")
_VOTE_AND_CARD_ROWS = PlainRowsStatement(_card_rows(
    written=sa.text(_EVENT_OF_WRITTEN_SQL).columns(_PROPOSAL_ID)
    .add_cte(_WRITTEN).cte("logged")
))
_WRITTEN_COLUMN = 6
