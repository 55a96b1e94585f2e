"""Rows that views look up by their address, or answer 404."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort

from deliberation.database import db
from deliberation.models import Participant, Round, User
from deliberation.services.facilitation import SLUG_RE
from deliberation.services.participants import round_with_participant

# Built once: SQLAlchemy keeps a statement object's cache key, so reusing the object spares
# every request building the statement and its key again (most pages look a round up).
ROUND_AT = sa.select(Round).where(Round.slug == sa.bindparam("slug"))


def round_or_404(slug: str, *, public: bool = True) -> Round:
    """The round at ``slug``. 404 when there is none, or, with ``public``, when it is still
    a draft (staff pages pass ``public=False``)."""
    round_, _participant = _round_at(slug, public=public)
    return round_


def round_and_participant_or_404(slug: str, user: User) -> tuple[Round, Participant | None]:
    """``round_or_404`` for a public round, with ``user``'s participant in it (None before
    they take part), read in the same statement: the vote views need both."""
    return _round_at(slug, public=True, user=user)


def _round_at(slug: str, *, public: bool, user: User | None = None
              ) -> tuple[Round, Participant | None]:
    if not SLUG_RE.fullmatch(slug or ""):  # also from a query string: no query for it
        abort(404)
    if user is None:
        round_, participant = db.session.scalar(ROUND_AT, {"slug": slug}), None
    else:
        round_, participant = round_with_participant(slug, user) or (None, None)
    if round_ is None or (public and not round_.is_public):
        abort(404)
    return round_, participant
