"""A round's vote figures for the engagement dashboard, kept up to date from the vote
events by id (deliberation/services/engagement.py: ``vote_tally``).

Counting a million events by day on every dashboard request takes seconds; the tally
reads only the events added since ``last_event_id`` (``events``: how many it counted).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from deliberation.database import db


class VoteTally(db.Model):
    __tablename__ = "vote_tallies"

    round_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    last_event_id: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    events: so.Mapped[int] = so.mapped_column(default=0)
    # ISO day (Asia/Tokyo) -> vote events that day.
    votes_by_day: so.Mapped[dict[str, int]] = so.mapped_column(sa.JSON, default=dict)
    # participant id -> the ISO day of their first vote, or "" once they voted on another day.
    first_day: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
