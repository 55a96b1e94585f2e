"""The audit log shown to staff (entries are written with ``deliberation.models.audit.record``).

Entries name accounts by their internal id only. Staff see a role and a short pseudonym
(an HMAC of the id under a key derived from the app's secret), never a display name: a
citizen's pseudonym is scoped to the round of the entry, so the account's registration
(no round) and its proposals and reports in different rounds carry unrelated pseudonyms and
nothing a facilitator can see links them. Staff accounts keep one pseudonym everywhere, so
every decision stays attributable. Accounts named as the target of an entry get the same
unscoped pseudonym as their account-level entries (never the id, which the account list
shows).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Mapping

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination

from deliberation.database import db
from deliberation.models import AuditEntry, Round
from deliberation.services import search

PSEUDONYM_LENGTH = 8


def pseudonym_key(secret: str | bytes) -> bytes:
    """The pseudonym key derived from the application's secret key."""
    raw = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(raw, b"hiroba audit pseudonyms", hashlib.sha256).digest()


def pseudonym(user_id: int, key: bytes, round_id: int | None = None) -> str:
    """A short, stable pseudonym of an account (within one round when ``round_id``)."""
    message = f"{'' if round_id is None else round_id}:{user_id}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:PSEUDONYM_LENGTH]


def actor_pseudonym(entry: AuditEntry, key: bytes) -> str | None:
    if entry.actor_id is None:
        return None
    scope = entry.round_id if entry.actor_role == "citizen" else None
    return pseudonym(entry.actor_id, key, scope)


def target_label(entry: AuditEntry, key: bytes) -> str:
    """The target's id, or the account's pseudonym when the target is an account."""
    if entry.target_id is None:
        return ""
    if entry.target_type == "users":
        return pseudonym(entry.target_id, key)
    return str(entry.target_id)


def entries_query(round_id: int | None = None) -> sa.Select:
    """The log, newest first by the time each entry shows; one round's entries when
    ``round_id`` is given. An entry may be dated before ones written earlier (the demo town
    places its story's entries on their days), so the order is by time, then by id."""
    query = sa.select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    if round_id is not None:
        query = query.where(AuditEntry.round_id == round_id)
    return query


def search_entries(round_id: int | None, terms: list[str], *, page: int, per_page: int,
                   action_words: Mapping[str, str] | None = None) -> Pagination:
    """One page of the log, newest first, where every term is in the action, the reason or
    the words of the action (``action_words``: action -> words as the reader sees them, so
    that staff find entries by what the page says, not by the stored code)."""
    query = entries_query(round_id)
    for term in terms:
        folded = term.casefold()
        named = [action for action, words in (action_words or {}).items()
                 if folded in words.casefold()]
        query = query.where(sa.or_(search.contains(AuditEntry.action, term),
                                   search.contains(AuditEntry.reason, term),
                                   AuditEntry.action.in_(named)))
    return search.page_of(query, page, per_page)


def export_entries(round_id: int | None = None) -> Iterator[tuple[AuditEntry, str]]:
    """Every entry of the log (one round's when ``round_id``), newest first, with the
    title of its round ("" for none), for the export."""
    titles = dict(db.session.execute(sa.select(Round.id, Round.title)).tuples().all())
    for entry in db.session.scalars(entries_query(round_id)):
        yield entry, titles.get(entry.round_id, "")
