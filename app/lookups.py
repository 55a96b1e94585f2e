"""Rows that views look up by their address, or answer 404."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort

from deliberation.database import db
from deliberation.models import Round
from deliberation.services.facilitation import SLUG_RE

# Built once: SQLAlchemy keeps a statement object's cache key, so reusing the object spares
# every request building the statement and its key again (most pages look a round up).
ROUND_AT = sa.select(Round).where(Round.slug == sa.bindparam("slug"))


def round_or_404(slug: str, *, public: bool = True) -> Round:
    """The round at ``slug``. 404 when there is none, or, with ``public``, when it is still
    a draft (staff pages pass ``public=False``)."""
    if not SLUG_RE.fullmatch(slug or ""):  # also from a query string: no query for it
        abort(404)
    round_ = db.session.scalar(ROUND_AT, {"slug": slug})
    if round_ is None or (public and not round_.is_public):
        abort(404)
    return round_
