"""Citizen participation: joining a round, voting, proposing, reporting, card routing.

Every public function owns its transaction (commits on success, rolls back on a domain
error raised after writes started). Messages are plain English; views translate them.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, NoReturn

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.exc import IntegrityError

from deliberation.database import db
from deliberation.engine.snapshots import newest_ok_snapshot
from deliberation.errors import Conflict, DomainError, NotAllowed, NotFound
from deliberation.models import (
    ClusterSnapshot,
    Participant,
    Proposal,
    Report,
    Round,
    User,
    Vote,
    VoteEvent,
)
from deliberation.models._common import utcnow
from deliberation.models.participation import PARTICIPANT_KINDS, VOTE_SOURCES, VOTE_VALUES
from deliberation.plain_rows import PlainRowsStatement
from deliberation.services import audit
from deliberation.text import clean_text, text_key

DEFAULT_MAX_LENGTH = 280
# Pol.is gives comments that arrived after the last clustering run a high priority so
# that they collect votes quickly; we multiply their weight by this factor.
NEW_PROPOSAL_BOOST = 3.0
# The card's pick when no generator is given: unpredictable, never seeded alike in forked
# web processes, and safe to share between threads (it keeps no state).
_SYSTEM_RANDOM = random.SystemRandom()
DEFAULT_PRIORITY = 1.0

PHASE_CLOSED_MESSAGES = {
    "draft": "This round has not opened yet.",
    "reflection": "Voting has ended: this round is in its reflection phase.",
    "closed": "This round is closed for voting.",
}


# --------------------------------------------------------------------------- helpers


def request_snapshot(round_: Round) -> None:
    """Mark the round as needing a new clustering run (only if not already marked)."""
    if round_.snapshot_requested_at is None:
        round_.snapshot_requested_at = utcnow()


def check_eligible(round_: Round, user: User) -> None:
    if not round_.is_public:
        raise NotAllowed("This round has not opened yet.")
    if round_.eligibility == "residents" and user.kind != "resident":
        raise NotAllowed("Only residents of the town can take part in this round.")
    if round_.eligibility == "verified" and not user.is_verified:
        raise NotAllowed("Only verified accounts can take part in this round.")


def participant_for(round_: Round, user: User | None, *, create: bool = True) -> Participant | None:
    """The participant of ``user`` in ``round_``; created on first use when ``create``.

    Raises NotAllowed when the user may not take part (eligibility) and ``create`` is set.
    Returns None for anonymous users, or when no participant exists and ``create`` is False.
    """
    if user is None or not getattr(user, "is_authenticated", True) or user.id is None:
        return None
    stmt = sa.select(Participant).where(
        Participant.round_id == round_.id, Participant.user_id == user.id
    )
    participant = db.session.scalar(stmt)
    if participant is not None or not create:
        return participant
    check_eligible(round_, user)
    kind = user.kind if user.kind in PARTICIPANT_KINDS else "unknown"
    participant = Participant(round_id=round_.id, user_id=user.id, source="account", kind=kind)
    db.session.add(participant)
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent request created it first
        db.session.rollback()
        participant = db.session.scalar(stmt)
        if participant is None:
            raise
    return participant


# What the vote request reads of a round (the card, the phase and eligibility checks, the
# snapshot request); the rest (description, policy, JSON links...) loads only if used.
_ROUND_VOTING_COLUMNS = so.load_only(
    Round.slug, Round.title, Round.phase, Round.eligibility, Round.snapshot_requested_at
)
_ROUND_AND_VOTER = (
    sa.select(Round, Participant, User)
    .select_from(Round)
    .outerjoin(Participant, sa.and_(Participant.round_id == Round.id,
                                    Participant.user_id == sa.bindparam("user_id")))
    .outerjoin(User, User.id == sa.bindparam("user_id"))
    .where(Round.slug == sa.bindparam("slug"))
    .options(_ROUND_VOTING_COLUMNS)
)


class RoundAndVoter(NamedTuple):
    round: Round | None
    participant: Participant | None  # of ``user`` in ``round``; None if not yet
    user: User | None  # the account asked for, as stored: not checked in any way


def round_and_voter(slug: str, user_id: int | None) -> RoundAndVoter:
    """The round with ``slug``, account ``user_id`` and its participant in the round, in one
    query: the vote request reads all three on every call (issue 7).

    The account stays in the session's identity map while the result is referenced, so the
    login's user loader (app/auth/session.py) finds it there instead of querying again.
    """
    row = db.session.execute(_ROUND_AND_VOTER, {"slug": slug, "user_id": user_id}).first()
    if row is None:
        return RoundAndVoter(None, None, None)
    return RoundAndVoter(*row)


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
    if isinstance(proposal_id, bool):
        raise NotFound("There is no such proposal in this round.")
    try:
        return int(proposal_id)
    except (TypeError, ValueError):
        raise NotFound("There is no such proposal in this round.") from None


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


# --------------------------------------------------------------------------- proposals


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
    round_: Round, user: User, text: Any, *, max_length: int = DEFAULT_MAX_LENGTH
) -> Proposal:
    """Submit a proposal. Strict rounds hold it as "pending"; open rounds publish it."""
    if not round_.accepts_proposals:
        raise DomainError("This round is not accepting proposals at the moment.",
                          phase=round_.phase)
    if not isinstance(text, str):
        raise DomainError("Please write your proposal.")
    cleaned = clean_text(text)
    if not cleaned:
        raise DomainError("Please write your proposal.")
    if len(cleaned) > max_length:
        raise DomainError(
            f"A proposal can be at most {max_length} characters long.", max_length=max_length
        )
    key = text_key(cleaned)
    if not key:
        raise DomainError("Please write your proposal in words.")
    duplicate = find_duplicate(round_, key)
    if duplicate is not None:
        raise Conflict("The same proposal already exists in this round.",
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


# --------------------------------------------------------------------------- reports


def report_proposal(proposal: Proposal, user: User, reason: Any) -> Report:
    """Report a proposal. At ``round.report_threshold`` reports it is hidden for review."""
    reason = clean_text(reason) if isinstance(reason, str) else ""
    if not reason:
        raise DomainError("Please say why you report this proposal.")
    if len(reason) > 1000:
        raise DomainError("The reason can be at most 1000 characters long.")
    if proposal.status not in {"published", "hidden"}:
        raise NotFound("There is no such proposal in this round.")
    exists = db.session.scalar(
        sa.select(Report.id).where(Report.proposal_id == proposal.id,
                                   Report.reporter_id == user.id)
    )
    if exists is not None:
        raise Conflict("You have already reported this proposal.")
    round_ = db.session.get(Round, proposal.round_id)
    assert round_ is not None
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
        raise Conflict("You have already reported this proposal.") from None
    except Exception:
        db.session.rollback()
        raise
    return report


# --------------------------------------------------------------------------- routing


def _latest_snapshot_column(column: Any) -> Any:
    return newest_ok_snapshot(column, round_id=sa.bindparam("round_id")).scalar_subquery()


# Every published proposal of the round with "already voted" (anonymous readers pass
# participant_id None: the join then matches nothing), "is_new" (created after the latest
# snapshot; NULL without one), the text of the unvoted ones (one of them is picked: this
# saves a second query) and the latest snapshot's id and time, in one round trip.
# Run on the connection (Core), not through the ORM: this is the busiest read (issue 7).
# The snapshot time is read as text, only to key the weights cache: a datetime per row
# would cost more than the rest of the row.
_SNAPSHOT_TIME = _latest_snapshot_column(ClusterSnapshot.created_at)


def _card_rows(*, written: Any = None) -> sa.Select:
    """The card's rows (``_card_from_rows`` unpacks the first six columns by position), run
    as plain tuples (deliberation/plain_rows.py): there is one per published proposal.

    With ``written`` (a CTE of the proposal ids that a vote in the same statement wrote,
    which the statement's own reads cannot see yet) those count as voted, and every row
    says in a seventh column (``_WRITTEN_COLUMN``) whether anything was written."""
    voted = Vote.id.is_not(None)
    extra = []
    if written is not None:
        voted = sa.or_(voted, Proposal.id.in_(sa.select(written.c.proposal_id)))
        extra = [sa.exists(sa.select(written.c.proposal_id)).label("written")]
    return (
        sa.select(Proposal.id, voted.label("voted"),
                  (Proposal.created_at > _SNAPSHOT_TIME).label("is_new"),
                  sa.case((sa.not_(voted), Proposal.text)).label("text"),
                  _latest_snapshot_column(ClusterSnapshot.id).label("snapshot_id"),
                  sa.cast(_SNAPSHOT_TIME, sa.String).label("snapshot_time"), *extra)
        .outerjoin(Vote, sa.and_(Vote.proposal_id == Proposal.id,
                                 Vote.participant_id == sa.bindparam("participant_id")))
        .where(Proposal.round_id == sa.bindparam("round_id"), Proposal.status == "published")
        .order_by(Proposal.id)
    )


_CARD_ROWS = PlainRowsStatement(_card_rows())
# PostgreSQL: the vote, its event and the next card's rows in one statement (data-modifying
# WITH): one round trip less on every vote from the card.
_PROPOSAL_ID = sa.column("proposal_id", Vote.__table__.c.proposal_id.type)
_WRITTEN = _vote_parameters(_UPSERT_IF_PUBLISHED_SQL).columns(_PROPOSAL_ID).cte("written")
_VOTE_AND_CARD_ROWS = PlainRowsStatement(_card_rows(
    written=sa.text(_EVENT_OF_WRITTEN_SQL).columns(_PROPOSAL_ID)
    .add_cte(_WRITTEN).cte("logged")
))
_WRITTEN_COLUMN = 6


@dataclass(frozen=True)
class CardProposal:
    """The proposal on the voting card: what the card shows of it."""

    id: int
    text: str


@dataclass(frozen=True)
class VoteCard:
    """What the voting card shows: the next proposal (None when all are voted) and how many
    of the round's published proposals the participant has voted on."""

    proposal: CardProposal | None
    voted: int


def vote_card(
    round_: Round, participant: Participant | None, *, rng: random.Random | None = None
) -> VoteCard:
    """Pol.is-style routing: a weighted random pick among unvoted published proposals.

    Weights come from the latest snapshot's ``statistics["priorities"]`` (keyed by the
    proposal id as a string); proposals without a priority get 1, and proposals newer
    than the snapshot are boosted so that they collect votes quickly.
    """
    # One query, and neither ORM objects nor Rows for every candidate.
    rows = _CARD_ROWS.all(db.session.connection(), {
        "round_id": round_.id, "participant_id": participant.id if participant else None,
    })
    return _card_from_rows(round_.id, rows, rng)


def _card_from_rows(
    round_id: int, rows: Sequence[Sequence[Any]], rng: random.Random | None
) -> VoteCard:
    if not rows:
        return VoteCard(None, 0)
    _id, _voted, _is_new, _text, snapshot_id, snapshot_time, *_written = rows[0]
    weight_of = _snapshot_weights(round_id, snapshot_id, snapshot_time)
    candidates, weights, texts = [], [], {}
    # Unpacked, not read by name: a Row's attribute lookups cost five times as much, and
    # this loop sees every published proposal on every vote (issue 7).
    for proposal_id, voted, is_new, text, *_snapshot_and_written in rows:
        if voted:
            continue
        weight = weight_of.get(proposal_id, DEFAULT_PRIORITY)
        if is_new:
            weight = max(weight, DEFAULT_PRIORITY) * NEW_PROPOSAL_BOOST
        candidates.append(proposal_id)
        weights.append(weight)
        texts[proposal_id] = text
    voted_count = len(rows) - len(candidates)
    if not candidates:
        return VoteCard(None, voted_count)
    rng = rng or _SYSTEM_RANDOM
    if sum(weights) <= 0:
        chosen = rng.choice(candidates)
    else:
        chosen = rng.choices(candidates, weights=weights, k=1)[0]
    return VoteCard(CardProposal(chosen, texts[chosen]), voted_count)


def _snapshot_weights(
    round_id: int, snapshot_id: int | None, created_at: str | None
) -> dict[int, float]:
    """Routing weight per proposal id from a snapshot's priorities ({} without one)."""
    if snapshot_id is None or created_at is None:
        return {}
    return _cached_snapshot_weights(snapshot_id, round_id, created_at)


@functools.lru_cache(maxsize=64)
def _cached_snapshot_weights(snapshot_id: int, round_id: int, created_at: str) -> dict[int, float]:
    """Snapshots never change once written, so the vote card reads and checks a snapshot's
    JSON once, not on every vote (issue 7). Round and time are part of the key because ids
    can be reused after a database reset; lru_cache is safe across gunicorn's threads.
    Callers must not change the returned dict."""
    statistics = db.session.scalar(
        sa.select(ClusterSnapshot.statistics).where(ClusterSnapshot.id == snapshot_id))
    weights = {}
    for proposal_id, priority in ((statistics or {}).get("priorities") or {}).items():
        if str(proposal_id).isdigit():
            weights[int(proposal_id)] = _as_weight(priority)
    return weights


def _as_weight(value: Any) -> float:
    try:
        weight = float(value)
    except (TypeError, ValueError):
        return DEFAULT_PRIORITY
    if weight != weight or weight < 0 or weight == float("inf"):  # NaN, negative, inf
        return DEFAULT_PRIORITY
    return weight
