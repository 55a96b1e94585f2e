"""Outgoing mail waiting to be sent (the outbox) and addresses that asked for no mail."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from deliberation.database import db
from deliberation.models._common import UTCDateTime, one_of, utcnow

OUTBOX_STATUSES = ("pending", "failed")


class OutgoingMail(db.Model):
    """One message, fully rendered when it was queued; deleted once the server took it.

    Requests only add rows (a slow or absent mail server never delays them); the sender
    (deliberation/jobs/mail_sender.py) delivers due rows and retries failures with growing
    pauses until ``MAIL_MAX_ATTEMPTS``, then keeps the row as ``failed`` for the admin.
    """

    __tablename__ = "mail_outbox"
    __table_args__ = (
        sa.CheckConstraint(one_of("status", OUTBOX_STATUSES), name="status"),
        sa.Index("ix_mail_outbox_due", "status", "next_attempt_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    recipient: so.Mapped[str] = so.mapped_column(sa.String(254))
    subject: so.Mapped[str] = so.mapped_column(sa.String(200))
    # What the mail is (confirm, reset, answer, ...): for logs and the admin, never shown.
    purpose: so.Mapped[str] = so.mapped_column(sa.String(40))
    message: so.Mapped[str] = so.mapped_column(sa.Text)  # RFC 5322, ASCII only
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="pending")
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    next_attempt_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    last_error: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)


class MailSuppression(db.Model):
    """An address whose owner used a mail's stop link: no more unrequested mail to it
    (notices about registrations or resets someone else asked for). Stored as a keyed hash,
    never the address itself."""

    __tablename__ = "mail_suppressions"

    address_hash: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)


class NotificationCursor(db.Model):
    """How far the notifier has read the audit log (one row per reader)."""

    __tablename__ = "notification_cursors"

    name: so.Mapped[str] = so.mapped_column(sa.String(40), primary_key=True)
    last_audit_id: so.Mapped[int] = so.mapped_column(sa.BigInteger)
