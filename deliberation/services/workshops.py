"""Workshops: open and close a time-boxed registration link for a venue.

Everyone at a town-hall session shares one internet address, so the per-address
registration limit would lock the room out after a few people. A facilitator opens a
workshop for a round (a label, 1-12 hours, 1-500 seats); registrations that carry its code
skip that limit while it is open and each takes a seat, so a leaked link creates at most
``seats`` accounts in at most a few hours. Opening and closing are audited.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import sqlalchemy as sa

from deliberation.database import add_unique, db, update_one
from deliberation.errors import N_, Conflict, DomainError
from deliberation.models import Round, User, Workshop, audit
from deliberation.models._common import utcnow
from deliberation.text import clean_text

MAX_HOURS = 12
MAX_SEATS = 500
MAX_LABEL_LENGTH = 80
# The code is read out in a hall and typed from a printed sheet or a projected screen, so
# no characters that are confused when heard or seen: 0/O, 1/I/L, 2/Z, 5/S, 8/B. 25^10
# codes is still far beyond guessing one that only lifts a rate limit for a few hours.
CODE_ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
CODE_LENGTH = 10
# Codes issued before those characters were dropped are on sheets already printed.
ACCEPTED_ALPHABET = frozenset("ABCDEFGHJKMNPQRSTUVWXYZ23456789")


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(raw: object) -> str | None:
    """The code as stored, from what was typed or scanned (case, spaces and dashes
    ignored); None if it cannot be a code."""
    if not isinstance(raw, str) or len(raw) > 40:
        return None
    code = raw.replace("-", "").replace(" ", "").strip().upper()
    if len(code) != CODE_LENGTH or any(c not in ACCEPTED_ALPHABET for c in code):
        return None
    return code


def _whole_number(value: object, low: int, high: int, message: str, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise DomainError(message, field=field)
    return value


def open_workshop(round_: Round, *, actor: User | None, label: object, hours: object,
                  seats: object) -> Workshop:
    if round_.phase == "closed":
        raise Conflict(N_("The round is closed: open a workshop for a round that is running."))
    text = clean_text(label) if isinstance(label, str) else ""
    if not text:
        raise DomainError(N_("Please name the workshop, e.g. the venue and date."),
                          field="label")
    if len(text) > MAX_LABEL_LENGTH:
        raise DomainError(N_("The name can be at most %(num)d characters long."),
                          field="label", num=MAX_LABEL_LENGTH)
    hours = _whole_number(hours, 1, MAX_HOURS,
                          N_("Enter a whole number of hours from 1 to 12."), "hours")
    seats = _whole_number(seats, 1, MAX_SEATS,
                          N_("Enter a whole number of seats from 1 to 500."), "seats")
    taken = Conflict(N_("There is already a workshop named “%(label)s” in this round: "
                        "use its link, or give this one another name."),
                     field="label", label=text)
    if db.session.scalar(sa.select(Workshop.id).where(
            Workshop.round_id == round_.id, Workshop.label == text)) is not None:
        raise taken
    now = utcnow()
    workshop = Workshop(round_id=round_.id, code=new_code(), label=text, seats=seats,
                        opened_at=now, closes_at=now + timedelta(hours=hours))
    add_unique(workshop, taken)
    audit.record("workshop.open", actor=actor, target=workshop, round_id=round_.id,
                 label=text, hours=hours, seats=seats,
                 closes_at=workshop.closes_at.isoformat())
    db.session.commit()
    return workshop


def close_workshop(workshop: Workshop, *, actor: User | None) -> Workshop:
    already = Conflict(N_("This workshop is already closed."))
    if not workshop.is_open():
        raise already
    # Closed only if still open when written: of two facilitators (or a double click)
    # closing at the same moment, the second finds it done and the audit log says it once.
    update_one(sa.update(Workshop).where(Workshop.id == workshop.id,
                                         Workshop.closed_at.is_(None))
               .values(closed_at=utcnow()), already)
    db.session.refresh(workshop)
    audit.record("workshop.close", actor=actor, target=workshop, round_id=workshop.round_id,
                 label=workshop.label, registrations=workshop.registrations)
    db.session.commit()
    return workshop


def find_open(raw_code: object) -> Workshop | None:
    """The open workshop with this code and a seat left, else None."""
    code = normalise_code(raw_code)
    if code is None:
        return None
    workshop = db.session.scalar(sa.select(Workshop).where(Workshop.code == code))
    if workshop is None or not workshop.is_open() or workshop.seats_left <= 0:
        return None
    return workshop


def exists(raw_code: object) -> bool:
    """Whether a workshop, open or not, has this code: a code typed by hand may be
    mistyped rather than closed."""
    code = normalise_code(raw_code)
    return code is not None and db.session.scalar(
        sa.select(Workshop.id).where(Workshop.code == code)) is not None


def take_seat(workshop: Workshop) -> bool:
    """Count one registration, if the workshop is still open with a seat left. One
    conditional UPDATE, so concurrent registrations never exceed the seats. Not committed:
    the registration and its seat are stored together or not at all."""
    taken = db.session.execute(
        sa.update(Workshop)
        .where(Workshop.id == workshop.id, Workshop.closed_at.is_(None),
               Workshop.closes_at > utcnow(), Workshop.registrations < Workshop.seats)
        .values(registrations=Workshop.registrations + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    return taken == 1


def for_round(round_: Round) -> list[Workshop]:
    return list(db.session.scalars(sa.select(Workshop).where(Workshop.round_id == round_.id)
                                   .order_by(Workshop.opened_at.desc(), Workshop.id.desc())))
