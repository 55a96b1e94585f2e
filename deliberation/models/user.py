"""Accounts: citizens and staff."""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin
from sqlalchemy.ext.hybrid import hybrid_property
from werkzeug.security import check_password_hash, generate_password_hash

from deliberation.database import db
from deliberation.models._common import UTCDateTime, one_of, utcnow

ROLES = ("citizen", "facilitator", "council", "admin")
# How far an account is known to belong to a real person (README, "Accounts and e-mail"):
# ``email`` once the address is confirmed, ``resident_verified`` once staff or a verifier
# confirmed the person (and, for residents, that they live in the town).
VERIFICATION_LEVELS = ("unverified", "email", "resident_verified")
# Server-side sessions kept per account; logging in on one more device ends the oldest.
MAX_SESSIONS = 20
PARTICIPANT_KINDS = ("resident", "e_citizen", "visitor")
# How Japanese pages are written for the reader: as usual, with furigana over the kanji,
# or in easy Japanese (やさしい日本語, with furigana).
READING_MODES = ("standard", "furigana", "easy")
STAFF_ROLES = {"facilitator": ("facilitator", "admin"), "council": ("council", "admin")}


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(one_of("role", ROLES), name="role"),
        sa.CheckConstraint(one_of("kind", PARTICIPANT_KINDS), name="kind"),
        sa.CheckConstraint(one_of("verification_level", VERIFICATION_LEVELS),
                           name="verification_level"),
        sa.CheckConstraint(one_of("reading", READING_MODES), name="reading"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    # email is NULL once an account is deleted (the row stays so that audit entries resolve)
    email: so.Mapped[str | None] = so.mapped_column(sa.String(254), unique=True)
    password_hash: so.Mapped[str | None] = so.mapped_column(sa.String(256))
    display_name: so.Mapped[str] = so.mapped_column(sa.String(80))
    locale: so.Mapped[str | None] = so.mapped_column(sa.String(8))
    # NULL until the account picks one (the session's choice applies meanwhile)
    reading: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    role: so.Mapped[str] = so.mapped_column(sa.String(16), default="citizen")
    kind: so.Mapped[str] = so.mapped_column(sa.String(16), default="resident")
    verification_level: so.Mapped[str] = so.mapped_column(
        sa.String(20), default="unverified", server_default="unverified"
    )
    # While the account is a verified resident: the keyed hash of the person behind it (the
    # national-ID app's pseudonym), unique, so that the database itself refuses a second
    # account of one person, also when both are verified at the same moment. NULL otherwise.
    verified_person: so.Mapped[str | None] = so.mapped_column(sa.String(64), unique=True)
    email_confirmed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    consent_version: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    consented_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    # Changing the nonce logs out every session of the account (password change, deletion).
    session_nonce: so.Mapped[str] = so.mapped_column(
        sa.String(32), default=lambda: secrets.token_hex(8)
    )
    # The ids of the account's live sessions (space separated, newest last). A login adds
    # one, a logout removes it; the session cookie and the remember-me cookie carry it and
    # every request checks it here, so a copied cookie stops working at logout. Kept on the
    # account row, which every logged-in request loads anyway: no extra query.
    session_ids: so.Mapped[str] = so.mapped_column(sa.Text, default="", server_default="")
    # E-mail notifications (account page; every mail has a link that turns them off).
    notify_council_answers: so.Mapped[bool] = so.mapped_column(
        default=False, server_default=sa.false()
    )
    notify_own_proposals: so.Mapped[bool] = so.mapped_column(
        default=True, server_default=sa.true()
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
        self.session_ids = ""

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @hybrid_property
    def is_verified(self) -> bool:
        """Verified as a person by staff or a verifier (eligibility "verified")."""
        return self.verification_level == "resident_verified"

    @is_verified.inplace.setter
    def _is_verified_setter(self, value: bool) -> None:
        self.verification_level = "resident_verified" if value else (
            "email" if self.email_confirmed_at else "unverified"
        )
        if not value:  # the person may verify another account now
            self.verified_person = None

    @is_verified.inplace.expression
    @classmethod
    def _is_verified_expression(cls) -> sa.ColumnElement[bool]:
        return cls.verification_level == "resident_verified"

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    # The session this object was loaded for or logged in with (not stored as such).
    current_session_id = None  # str once set

    def get_id(self) -> str:
        """Flask-Login's id in the session and remember-me cookies: account, password
        nonce and session id, all three checked on every request (app/auth/session.py)."""
        return f"{self.id}:{self.session_nonce}:{self.current_session_id or ''}"

    def live_sessions(self) -> list[str]:
        return (self.session_ids or "").split()

    def add_session(self) -> str:
        session_id = secrets.token_urlsafe(16)
        self.session_ids = " ".join([*self.live_sessions(), session_id][-MAX_SESSIONS:])
        self.current_session_id = session_id
        return session_id

    def end_session(self, session_id: str | None) -> None:
        self.session_ids = " ".join(s for s in self.live_sessions() if s != session_id)

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


class LoginFailure(db.Model):
    """Failed logins counted per (client address, submitted address) and per submitted
    address, under a keyed hash (no address is stored), for the login back-off."""

    __tablename__ = "login_failures"

    key: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    failures: so.Mapped[int] = so.mapped_column(default=0)
    last_failure_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
