"""Accounts: registration with consent, authentication, password and language changes."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import unicodedata

import sqlalchemy as sa
from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from werkzeug.security import check_password_hash, generate_password_hash

from deliberation.database import add_unique, db
from deliberation.errors import N_, Conflict, DomainError
from deliberation.models import User, audit
from deliberation.models._common import utcnow
from deliberation.models.user import PARTICIPANT_KINDS, READING_MODES, ROLES
from deliberation.services import passwords, search
from deliberation.text import clean_text

MIN_PASSWORD_LENGTH = passwords.MIN_PASSWORD_LENGTH
LINK_INVALID = N_("This link is invalid or has expired. Please ask for a new one.")
EMAIL_EXISTS = N_("An account with this email address already exists.")
EMAIL_TAKEN = N_("This email address cannot be used. Please choose another one.")
MAX_DISPLAY_NAME_LENGTH = 80


def password_hash_method() -> str:
    """The app's ``PASSWORD_HASH_METHOD``: scrypt, except a cheap hash under testing."""
    return current_app.config["PASSWORD_HASH_METHOD"]


def normalise_email(email: str) -> str:
    """The one stored form of an address: the same mailbox typed another way (full-width
    letters from a Japanese keyboard, capitals, a Japanese domain or its ASCII form) is the
    same account, the same per-address limits and a recipient a mail server accepts."""
    text = unicodedata.normalize("NFKC", email or "").strip()
    local, at, domain = text.rpartition("@")
    if not at:
        return text.lower()
    domain = domain.lower()
    # the form mail servers take (xn--...), also split at 。 as a browser does; what is no
    # domain stays as typed: it finds no account and the form refuses it
    with contextlib.suppress(UnicodeError):
        domain = domain.encode("idna").decode("ascii")
    return f"{local.lower()}@{domain}"


# Providers that deliver every dotted spelling of a name to one inbox.
DOTS_IGNORED = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def mailbox(email: str) -> str:
    """The inbox an address delivers to, as far as the common providers let one tell: a
    sub-address (``name+anything@``, which Gmail, Outlook, iCloud and most servers deliver
    to ``name@``) and, where dots do not count, the dots come off. One person can answer
    to many addresses of one inbox; this is how many inboxes there are."""
    local, _at, domain = normalise_email(email).rpartition("@")
    local = local.split("+", 1)[0]
    if domain in DOTS_IGNORED:
        local, domain = local.replace(".", ""), DOTS_IGNORED[domain]
    return f"{local}@{domain}"


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
    commit: bool = True,
) -> User:
    """Create an account. No account exists without consent to the current notice."""
    display_name = register_checks(password=password, display_name=display_name, kind=kind,
                                   email=email, consent_version=consent_version)
    if role not in ROLES:
        raise DomainError(N_("Unknown role %(role)s."), role=role)
    if find_by_email(email) is not None:
        raise Conflict(EMAIL_EXISTS, field="email")
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
    # Sent twice at once, the unique address decides; whatever the caller had written in
    # this transaction goes too (a workshop seat: only one account was made).
    add_unique(user, Conflict(EMAIL_EXISTS, field="email"))
    audit.record("account.register", actor=user, target=user, role=role)
    if commit:
        db.session.commit()
    return user


def register_or_existing(*, email: str, password: str, display_name: str, kind: str,
                         consent_version: str | None, locale: str | None = None
                         ) -> tuple[User, bool]:
    """Registration from the web without telling whether the address is taken.

    The input is checked the same way for both; then a new account is created (True), or
    for an address that already has an account the password is hashed all the same and
    that account is returned (False), so both take the same time and the caller answers
    the same way (and mails the existing owner instead). Not committed: the caller queues
    the mail in the same transaction.
    """
    existing = find_by_email(email)
    if existing is None:
        try:
            return register(email=email, password=password, display_name=display_name,
                            kind=kind, consent_version=consent_version, locale=locale,
                            commit=False), True
        except Conflict:
            existing = find_by_email(email)
            if existing is None:
                raise
    # The same checks and the same hashing as a new account.
    register_checks(password=password, display_name=display_name, kind=kind, email=email,
                    consent_version=consent_version)
    generate_password_hash(password, method=password_hash_method())
    return existing, False


def register_checks(*, password: str, display_name: str, kind: str, email: str,
                    consent_version: str | None) -> str:
    """What a new account must satisfy, checked the same way whether its address is free or
    taken (so that the answer does not tell them apart); the display name as stored."""
    if not consent_version:
        raise DomainError(N_("Consent is required to create an account."), field="consent")
    if kind not in PARTICIPANT_KINDS:
        raise DomainError(N_("Unknown participant kind."), field="kind")
    display_name = clean_text(display_name)
    if not display_name:
        raise DomainError(N_("Please enter a display name."), field="display_name")
    if len(display_name) > MAX_DISPLAY_NAME_LENGTH:
        raise DomainError(N_("The display name is too long."), field="display_name")
    passwords.check(password, email=email, display_name=display_name)
    return display_name


@functools.lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    return generate_password_hash("no account has this password", method=method)


def authenticate(email: str, password: str) -> User | None:
    """The account if the password is right. Unknown addresses cost the same work: the
    password is checked against a dummy hash made with the same method."""
    user = find_by_email(email)
    if user is None or not user.is_active or not user.password_hash:
        check_password_hash(_dummy_hash(password_hash_method()), password)
        return None
    return user if user.check_password(password) else None


# ------------------------------------------------------------------ e-mail links


def link_fingerprint(user: User) -> str:
    """Changes when the password or the address changes: a reset link works once."""
    material = f"{user.password_hash or ''}|{user.email or ''}|{user.session_nonce}"
    return hashlib.sha256(material.encode()).hexdigest()[:24]


def _raise_level_to_email(user: User) -> None:
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
    if user.verification_level == "unverified":
        user.verification_level = "email"


def confirm_email(user: User | None, email: str) -> None:
    """The owner of ``email`` opened the confirmation link sent to it."""
    if user is None or not user.is_active or user.email != email:
        raise DomainError(LINK_INVALID)
    if user.email_confirmed_at is None:
        _raise_level_to_email(user)
        audit.record("account.email_confirmed", actor=user, target=user)
    db.session.commit()


def reset_password(user: User | None, fingerprint: str, new: str) -> User:
    """Set a new password from a reset link; every session of the account ends. Opening
    the link proves the mailbox, so the address counts as confirmed too."""
    if user is None or not user.is_active or link_fingerprint(user) != fingerprint:
        raise DomainError(LINK_INVALID)
    passwords.check(new, email=user.email, display_name=user.display_name)
    user.set_password(new, method=password_hash_method())
    _raise_level_to_email(user)
    audit.record("account.password_reset", actor=user, target=user)
    db.session.commit()
    return user


def check_email_change(user: User, password: str, new_email: str) -> User | None:
    """Before a change of address is mailed: the password must be right. Returns the
    other account that holds ``new_email`` already, if any (the caller mails its owner
    rather than saying so)."""
    if not user.check_password(password):
        raise DomainError(N_("The password is wrong."), field="password")
    new_email = normalise_email(new_email)
    if new_email == user.email:
        raise DomainError(N_("This is already your email address."), field="email")
    return find_by_email(new_email)


def change_email(user: User | None, old_email: str, new_email: str) -> None:
    """The new address was confirmed through the link mailed to it."""
    if user is None or not user.is_active or user.email != old_email:
        raise DomainError(LINK_INVALID)
    new_email = normalise_email(new_email)
    if find_by_email(new_email) is not None:
        raise DomainError(EMAIL_TAKEN)
    user.email = new_email
    user.email_confirmed_at = None
    _raise_level_to_email(user)
    audit.record("account.email_changed", actor=user, target=user)
    db.session.commit()


def set_notifications(user: User, *, council_answers: bool, own_proposals: bool) -> None:
    user.notify_council_answers = council_answers
    user.notify_own_proposals = own_proposals
    db.session.commit()


def stop_notifications(email: str) -> None:
    """From a mail's stop link: the account with this address gets no more notifications."""
    user = find_by_email(email)
    if user is not None:
        user.notify_council_answers = False
        user.notify_own_proposals = False


def change_password(user: User, current: str, new: str) -> None:
    """Change the password; every other session of the account is logged out."""
    if not user.check_password(current):
        raise DomainError(N_("The current password is wrong."), field="current")
    passwords.check(new, email=user.email, display_name=user.display_name)
    user.set_password(new, method=password_hash_method())
    audit.record("account.password_changed", actor=user, target=user)
    db.session.commit()


def set_locale(user: User, locale: str) -> None:
    user.locale = locale
    db.session.commit()


def set_reading(user: User, reading: str) -> None:
    """How Japanese pages are written for the account (``READING_MODES``)."""
    if reading not in READING_MODES:
        raise DomainError(N_("Choose one of the ways of writing."))
    user.reading = reading
    db.session.commit()


def search_accounts(terms: list[str], *, page: int, per_page: int) -> Pagination:
    """One page of the accounts (not deleted), oldest first, whose e-mail address or
    display name contains every term."""
    query = sa.select(User).where(User.deleted_at.is_(None)).order_by(User.id)
    if terms:
        query = query.where(search.matches_all([User.email, User.display_name], terms))
    return search.page_of(query, page, per_page)


def set_role(user: User, role: str, *, actor: User | None) -> None:
    if role not in ROLES:
        raise DomainError(N_("Unknown role %(role)s."), role=role)
    previous = user.role
    user.role = role
    audit.record("account.role_changed", actor=actor, target=user, previous=previous, role=role)
    db.session.commit()
