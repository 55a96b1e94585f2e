"""Who takes part in a round: eligibility, and the participant of an account in a round."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from deliberation.database import db
from deliberation.errors import N_, NotAllowed
from deliberation.models import Participant, Round, User
from deliberation.models.participation import PARTICIPANT_KINDS
from deliberation.services.verification import person_secret, round_person_key

# Built once (every vote reads them): SQLAlchemy keeps a statement object's cache key.
PARTICIPANT_OF_ACCOUNT = sa.select(Participant).where(
    Participant.round_id == sa.bindparam("round_id"), Participant.user_id == sa.bindparam("user_id")
)
# The round at an address and the account's participant in it (NULL before the account
# takes part): a vote needs both, and one statement is one round trip to the database.
ROUND_WITH_PARTICIPANT = (
    sa.select(Round, Participant)
    .outerjoin(Participant, sa.and_(Participant.round_id == Round.id,
                                    Participant.user_id == sa.bindparam("user_id")))
    .where(Round.slug == sa.bindparam("slug"))
)


def eligibility_refusal(round_: Round, user: User) -> str | None:
    """Why ``user`` may not take part in ``round_`` (a message), or None if they may.

    ``residents``: accounts that declared themselves residents, or that the town verified
    as residents; ``verified``: only accounts the town verified as residents
    (deliberation/services/verification.py)."""
    if not round_.is_public:
        return N_("This round has not opened yet.")
    if round_.eligibility == "residents" and not (user.kind == "resident" or user.is_verified):
        return N_("Only residents of the town can take part in this round.")
    if round_.eligibility == "verified" and not user.is_verified:
        return N_("Only verified accounts can take part in this round.")
    return None


TAKEN_PART_ALREADY = N_("You have already taken part in this round with another account, "
                        "verified as the same person; its votes still count, so this one "
                        "cannot take part here.")


def person_key(round_: Round, user: User) -> str | None:
    """What stands for the account's person in a round for verified residents (None in
    other rounds, or when the verification knows no person, as a postal code).

    Keyed with the key of the person hashes (``verification.person_secret``, which outlives
    a new SECRET_KEY when VERIFICATION_KEY is set): whoever reads the database alone cannot
    work it out from an account's ``verified_person`` and so find the participant of that
    person's deleted account."""
    if round_.eligibility != "verified" or not user.verified_person:
        return None
    return round_person_key(person_secret(), round_.id, user.verified_person)


def key_people(round_: Round) -> None:
    """Give the participants of a round now for verified residents the hash of their
    account's person, as joining it would have (does not commit). A round switched to
    verified residents after people joined it must refuse their persons' other accounts
    too. Two accounts of one person that both joined before: the first keeps the key."""
    if round_.eligibility != "verified":
        return
    secret = person_secret()
    taken = set(db.session.scalars(sa.select(Participant.person_key).where(
        Participant.round_id == round_.id, Participant.person_key.is_not(None))))
    for participant, verified_person in db.session.execute(
            sa.select(Participant, User.verified_person).join(User, Participant.user_id == User.id)
            .where(Participant.round_id == round_.id, Participant.person_key.is_(None),
                   User.verified_person.is_not(None))
            .order_by(Participant.id)).tuples():
        key = round_person_key(secret, round_.id, verified_person)
        if key not in taken:
            participant.person_key = key
            taken.add(key)


def check_eligible(round_: Round, user: User) -> None:
    """The one rule for who may take part in a round (vote, propose, report)."""
    refusal = eligibility_refusal(round_, user)
    if refusal is not None:
        raise NotAllowed(refusal, eligibility=round_.eligibility)


def round_with_participant(slug: str, user: User) -> tuple[Round, Participant | None] | None:
    """The round at ``slug`` and ``user``'s participant in it (None before they take part),
    read in one statement. None when there is no round at ``slug``."""
    row = db.session.execute(ROUND_WITH_PARTICIPANT, {"slug": slug, "user_id": user.id}).first()
    return None if row is None else (row[0], row[1])


def participant_for(round_: Round, user: User | None, *, create: bool = True) -> Participant | None:
    """The participant of ``user`` in ``round_``; created on first use when ``create``.

    ``create`` is for taking part (voting, proposing): it raises NotAllowed when the user may
    not take part now, also when they already do (the round's rule or their account may
    have changed since). Without ``create`` (reading), nothing is checked or written.
    Returns None for anonymous users, or when no participant exists and ``create`` is False.
    """
    if user is None or not getattr(user, "is_authenticated", True) or user.id is None:
        return None
    if create:
        check_eligible(round_, user)
    key = {"round_id": round_.id, "user_id": user.id}
    participant = db.session.scalar(PARTICIPANT_OF_ACCOUNT, key)
    if participant is not None or not create:
        return participant
    person = person_key(round_, user)
    taken = NotAllowed(TAKEN_PART_ALREADY, eligibility=round_.eligibility)
    if person is not None and db.session.scalar(sa.select(Participant.id).where(
            Participant.round_id == round_.id, Participant.person_key == person)) is not None:
        raise taken
    kind = user.kind if user.kind in PARTICIPANT_KINDS else "unknown"
    participant = Participant(round_id=round_.id, user_id=user.id, source="account", kind=kind,
                              person_key=person)
    db.session.add(participant)
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent request created it first
        db.session.rollback()
        participant = db.session.scalar(PARTICIPANT_OF_ACCOUNT, key)
        if participant is None:
            if person is not None:  # or the same person's other account did, at once
                raise taken from None
            raise
    return participant
