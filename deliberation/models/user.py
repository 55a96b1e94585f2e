"""Accounts: citizens and staff."""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from deliberation.database import db
from deliberation.models._common import UTCDateTime, one_of, utcnow

ROLES = ("citizen", "facilitator", "council", "admin")
PARTICIPANT_KINDS = ("resident", "e_citizen", "visitor")
STAFF_ROLES = {"facilitator": ("facilitator", "admin"), "council": ("council", "admin")}


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(one_of("role", ROLES), name="role"),
        sa.CheckConstraint(one_of("kind", PARTICIPANT_KINDS), name="kind"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    # email is NULL once an account is deleted (the row stays so that audit entries resolve)
    email: so.Mapped[str | None] = so.mapped_column(sa.String(254), unique=True)
    password_hash: so.Mapped[str | None] = so.mapped_column(sa.String(256))
    display_name: so.Mapped[str] = so.mapped_column(sa.String(80))
    locale: so.Mapped[str | None] = so.mapped_column(sa.String(8))
    role: so.Mapped[str] = so.mapped_column(sa.String(16), default="citizen")
    kind: so.Mapped[str] = so.mapped_column(sa.String(16), default="resident")
    is_verified: so.Mapped[bool] = so.mapped_column(default=False)
    consent_version: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    consented_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    # Changing the nonce logs out every session of the account (password change, deletion).
    session_nonce: so.Mapped[str] = so.mapped_column(
        sa.String(32), default=lambda: secrets.token_hex(8)
    )
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    deleted_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    def set_password(self, password: str, *, method: str) -> None:
        """Store a salted hash made with Werkzeug's ``method`` (``PASSWORD_HASH_METHOD``).

        ``check_password`` reads the method back from the stored hash, so accounts keep
        logging in when the setting changes.
        """
        self.password_hash = generate_password_hash(password, method=method)
        self.session_nonce = secrets.token_hex(8)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_nonce}"

    @property
    def is_active(self) -> bool:  # Flask-Login: deleted accounts cannot log in
        return self.deleted_at is None

    def has_role(self, *roles: str) -> bool:
        return self.role in roles or self.role == "admin"

    @property
    def is_facilitator(self) -> bool:
        return self.has_role("facilitator")

    @property
    def is_council(self) -> bool:
        return self.has_role("council")

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"
