"""Accounts: registration with consent, authentication, password and language changes."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from deliberation.database import db
from deliberation.errors import Conflict, DomainError
from deliberation.models import User
from deliberation.models._common import utcnow
from deliberation.models.user import PARTICIPANT_KINDS, ROLES
from deliberation.services import audit
from deliberation.text import clean_text

MIN_PASSWORD_LENGTH = 8
MAX_DISPLAY_NAME_LENGTH = 80


def password_hash_method() -> str:
    """The app's ``PASSWORD_HASH_METHOD``: scrypt, except a cheap hash under testing."""
    return current_app.config["PASSWORD_HASH_METHOD"]


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def register(
    *,
    email: str,
    password: str,
    display_name: str,
    kind: str,
    consent_version: str | None,
    locale: str | None = None,
    role: str = "citizen",
) -> User:
    """Create an account. No account exists without consent to the current notice."""
    if not consent_version:
        raise DomainError("Consent is required to create an account.")
    if role not in ROLES:
        raise DomainError(f"Unknown role {role!r}.")
    if kind not in PARTICIPANT_KINDS:
        raise DomainError(f"Unknown participant kind {kind!r}.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError("The password is too short.")
    display_name = clean_text(display_name)
    if not display_name:
        raise DomainError("Please enter a display name.")
    if len(display_name) > MAX_DISPLAY_NAME_LENGTH:
        raise DomainError("The display name is too long.")
    if find_by_email(email) is not None:
        raise Conflict("An account with this email address already exists.")
    user = User(
        email=normalise_email(email),
        display_name=display_name,
        kind=kind,
        role=role,
        locale=locale,
        consent_version=consent_version,
        consented_at=utcnow(),
    )
    user.set_password(password, method=password_hash_method())
    db.session.add(user)
    db.session.flush()
    audit.record("account.register", actor=user, target=user, role=role)
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User | None:
    user = find_by_email(email)
    if user is None or not user.is_active or not user.check_password(password):
        return None
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Change the password; every other session of the account is logged out."""
    if not user.check_password(current):
        raise DomainError("The current password is wrong.")
    if len(new) < MIN_PASSWORD_LENGTH:
        raise DomainError("The password is too short.")
    user.set_password(new, method=password_hash_method())
    audit.record("account.password_changed", actor=user, target=user)
    db.session.commit()


def set_locale(user: User, locale: str) -> None:
    user.locale = locale
    db.session.commit()


def set_role(user: User, role: str, *, actor: User | None) -> None:
    if role not in ROLES:
        raise DomainError(f"Unknown role {role!r}.")
    previous = user.role
    user.role = role
    audit.record("account.role_changed", actor=actor, target=user, previous=previous, role=role)
    db.session.commit()
