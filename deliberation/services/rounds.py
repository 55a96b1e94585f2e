"""Rounds as everyone may see them."""

from __future__ import annotations

import sqlalchemy as sa

from deliberation.database import db
from deliberation.models import Round


def public_rounds() -> list[Round]:
    """Every round past its draft, newest first."""
    return list(db.session.scalars(
        sa.select(Round).where(Round.phase != "draft").order_by(Round.created_at.desc())))
