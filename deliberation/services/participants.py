"""Who takes part in a round: eligibility, and the participant of an account in a round."""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.exc import IntegrityError

from deliberation.database import db
from deliberation.errors import NotAllowed
from deliberation.models import Participant, Round, User
from deliberation.models.participation import PARTICIPANT_KINDS


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
