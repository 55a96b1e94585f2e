"""Workshops: a time-boxed registration link for one venue (a town-hall session on one Wi-Fi).

While a workshop is open, registrations that carry its code skip the per-address limit
(everyone in the room shares one address) and count against the workshop's own seats
instead. Who opened and closed it is in the audit log, not here.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from deliberation.database import db
from deliberation.models._common import UTCDateTime, utcnow


class Workshop(db.Model):
    __tablename__ = "workshops"
    __table_args__ = (
        # The label is how facilitators tell a round's workshops apart on the page and in
        # the audit log; one per label also stops a form sent twice from opening two links.
        sa.UniqueConstraint("round_id", "label"),
        sa.CheckConstraint("seats BETWEEN 1 AND 500", name="seats"),
        sa.CheckConstraint("registrations >= 0 AND registrations <= seats",
                           name="registrations"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    round_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    # The code in the link and the QR code; it only lifts a rate limit while open.
    code: so.Mapped[str] = so.mapped_column(sa.String(16), unique=True)
    label: so.Mapped[str] = so.mapped_column(sa.String(80))
    seats: so.Mapped[int] = so.mapped_column()
    registrations: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    opened_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    closes_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    closed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    def is_open(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.closed_at is None and now < self.closes_at

    @property
    def seats_left(self) -> int:
        return max(self.seats - self.registrations, 0)
