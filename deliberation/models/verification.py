"""Verification: who confirmed that an account belongs to a resident, how and when.

Only the attribute is stored (a resident, verified at, by which method, by whom) and a keyed
hash of the person (a document's number, the national-ID app's pseudonym), never an
identity document's number nor a My Number. Postal codes are stored as hashes: a code is
shown once, in the CSV staff download for the mail merge.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from deliberation.database import db
from deliberation.models._common import UTCDateTime, one_of, utcnow
from deliberation.models.user import VERIFICATION_LEVELS

VERIFICATION_METHODS = ("counter", "postal_code", "national_id")
# What staff saw at the counter: the kind of document, and only a keyed hash of its number
# (one document verifies one account). Not the health insurance card: the law forbids
# asking for its number (健康保険法 告知要求制限), and it ceased to be valid in December
# 2025; records made with it before keep the name "health_insurance".
COUNTER_DOCUMENTS = ("my_number_card", "driving_licence", "residence_card", "other")


class VerificationRecord(db.Model):
    """One verification (or its revocation) of an account as a resident. Append-only:
    a revocation is a new row, so the history shows every step."""

    __tablename__ = "verification_records"
    __table_args__ = (
        sa.CheckConstraint(one_of("method", VERIFICATION_METHODS), name="method"),
        sa.CheckConstraint(one_of("level", VERIFICATION_LEVELS), name="level"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # the level the account has after this record ("unverified"/"email" for a revocation)
    level: so.Mapped[str] = so.mapped_column(sa.String(24))
    method: so.Mapped[str] = so.mapped_column(sa.String(16))
    # staff who verified at the counter or generated the postal code (who held it before the
    # resident did); NULL for the app
    verified_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    details: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)


class PostalCode(db.Model):
    """A one-time code sent by post to a registered address (Decidim's postal letter)."""

    __tablename__ = "postal_codes"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    batch: so.Mapped[str] = so.mapped_column(sa.String(80))
    created_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    # Whoever generated the codes holds them all; a code works only once another member of
    # staff confirmed that the batch's letters were posted (and how many), so one insider
    # alone cannot verify accounts that no resident holds.
    posted_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    posted_confirmed_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    used_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
