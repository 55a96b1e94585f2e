"""The operator's settings for their town (name, operator, contact, terms, logo).

The environment gives the defaults (``HIROBA_TOWN_NAME`` ...); a row here, written from the
admin page, overrides one setting. No row: the default applies.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from deliberation.database import db
from deliberation.models._common import UTCDateTime, utcnow


class TownSetting(db.Model):
    __tablename__ = "town_settings"

    key: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    value: so.Mapped[str] = so.mapped_column(sa.Text, default="")  # the logo: its media type
    data: so.Mapped[bytes | None] = so.mapped_column(sa.LargeBinary)  # the logo's bytes
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow,
                                                       onupdate=utcnow)
    updated_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
