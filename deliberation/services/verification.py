"""Verification levels of an account and the ways to reach ``resident_verified``.

Levels, from least to most trusted:

``unverified``
    An account whose e-mail address nobody has confirmed.
``email``
    The person confirmed that they read the account's e-mail address.
``resident_verified``
    The town confirmed that the account belongs to a resident: staff saw an identity
    document at the counter, the resident entered a one-time code the town posted to a
    registered address, or a national-ID app (デジタル認証アプリ / JPKI) answered through a
    ``NationalIdVerifier`` (see ``deliberation/services/national_id.py``).

Only the attribute is stored: verified as a resident, when, by which method and by whom
(``VerificationRecord`` and the audit log), and on the record alone a keyed hash of the
person (the number of the document seen at the counter, the national-ID app's pseudonym)
by which one person verifies one account. Never a document number or a My Number.

Every public function owns its transaction. Messages are plain English; views translate.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from deliberation.database import db, update_one
from deliberation.errors import N_, Conflict, DomainError, NotFound
from deliberation.models import Participant, User, audit
from deliberation.models._common import utcnow
from deliberation.models.verification import (
    COUNTER_DOCUMENTS,
    PostalCode,
    VerificationRecord,
)
from deliberation.text import clean_text

# Postal codes: 12 characters from an alphabet without look-alikes (0/O, 1/I/L, 2/Z, 5/S,
# 8/B): 30^12, about 2^59 codes, so guessing one among a town's codes is hopeless and
# the hash at rest cannot be reversed by trying them all.
CODE_ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
CODE_LENGTH = 12
MAX_CODES_PER_BATCH = 5000
MIN_VALID_DAYS, MAX_VALID_DAYS = 1, 365
MAX_BATCH_LABEL = 80
MAX_SEARCH = 50


def level_of(user: User) -> str:
    """The account's verification level (see the module docstring)."""
    return user.verification_level


# --------------------------------------------------------------------------- records


# What a second account of one person is told, by method (the accounts stay unnamed).
PERSON_TAKEN = {
    "counter": N_("This document already verifies another account: one person verifies one "
                  "account. If the resident no longer uses it, revoke that account's "
                  "verification first (the resident can tell you which it is)."),
    "national_id": N_("Your national ID already verifies another account here: one person "
                      "verifies one account. Ask the town hall if that account is not yours "
                      "any more."),
}


def _verify(user: User, *, method: str, actor: User | None, person: str | None = None,
            **details: Any) -> VerificationRecord:
    """Record a verification as a resident (does not commit).

    ``person``: the keyed hash of the person behind the account. Another account holding
    it is refused (Conflict, ``PERSON_TAKEN``): users.verified_person is unique, so this
    holds also for two verifications of one person at the same moment."""
    if user.deleted_at is not None:
        raise NotFound(N_("There is no such account."))
    already = Conflict(N_("This account is already verified as a resident."))
    if user.is_verified:
        raise already
    # Verified only if not yet verified when written: of two members of staff (or a double
    # click) verifying the same account at once, the second is told it is done, and the
    # records and the audit log hold one verification.
    try:
        update_one(sa.update(User).where(User.id == user.id, sa.not_(User.is_verified))
                   .values(verification_level="resident_verified", verified_person=person),
                   already)
    except sa.exc.IntegrityError:
        db.session.rollback()
        raise Conflict(PERSON_TAKEN[method], field="number") from None
    if person is not None:
        details["person"] = person
    db.session.refresh(user)
    record = VerificationRecord(user_id=user.id, level="resident_verified", method=method,
                                verified_by_id=actor.id if actor else None, details=details)
    db.session.add(record)
    db.session.flush()
    # The hash of the person's national-ID pseudonym stays with the record: in the audit
    # log that staff read and download, it would tie the accounts of one person together.
    audit.record("account.verified", actor=actor, target=user, method=method,
                 **{key: value for key, value in details.items() if key != "person"})
    return record


# The number printed on each kind of document, as staff may type it (full-width, spaces and
# dashes forgiven by normalise_code): a driving licence's 12 digits, a residence card's
# 2 letters, 8 digits and 2 letters; for a My Number card the number on its front (never
# the My Number on its back, which has 12 digits and may not be collected).
DOCUMENT_NUMBER = {
    "driving_licence": re.compile(r"[0-9]{12}"),
    "residence_card": re.compile(r"[A-Z]{2}[0-9]{8}[A-Z]{2}"),
    "my_number_card": re.compile(r"[0-9A-Z]{4,30}"),
    "other": re.compile(r"[0-9A-Z]{4,30}"),
}
MY_NUMBER = re.compile(r"[0-9]{12}")
# The part of a number that stays with the person: a driving licence's last digit counts
# how often it was reissued (lost, stolen), so a reissued licence is the same person.
DOCUMENT_PERSON = {"driving_licence": slice(0, 11)}


def is_my_number(number: str) -> bool:
    """Whether ``number`` has the form of a My Number: 12 digits whose last is the check
    digit of the first 11 (weights 2-7 then 2-6 from the right, modulo 11)."""
    if not MY_NUMBER.fullmatch(number):
        return False
    digits = [int(ch) for ch in number]
    total = sum(digit * (n + 1 if n <= 6 else n - 5)
                for n, digit in enumerate(reversed(digits[:11]), start=1))
    remainder = total % 11
    return digits[11] == (0 if remainder <= 1 else 11 - remainder)


def verify_at_counter(user: User, *, actor: User, document: str, number: Any,
                      secret: str) -> VerificationRecord:
    """Staff saw an identity document of the account's holder at the counter.

    One document verifies one account: only a hash of its number keyed with ``secret`` is
    kept (on the record and in ``users.verified_person``, never in the audit log), and the
    same document for a second account that is still verified is refused."""
    if document not in COUNTER_DOCUMENTS:
        raise DomainError(N_("Please choose the document you saw."))
    if user.id == actor.id:  # nobody saw the document: another member of staff must
        raise DomainError(N_("You cannot verify your own account: another member of staff "
                             "must see your document."))
    number = normalise_code(number if isinstance(number, str) else "")
    if document == "my_number_card" and MY_NUMBER.fullmatch(number):
        raise DomainError(N_("This looks like the My Number from the back of the card, "
                             "which Hiroba must never take. Please enter the number on the "
                             "front of the card."), field="number")
    if document == "other" and is_my_number(number):
        raise DomainError(N_("This looks like a My Number, which Hiroba must never take. "
                             "Please enter the number of the document you saw."),
                          field="number")
    if not DOCUMENT_NUMBER[document].fullmatch(number):
        raise DomainError(N_("Please enter the number printed on the document you saw "
                             "(a driving licence has 12 digits, a residence card 2 letters, "
                             "8 digits and 2 letters)."), field="number")
    try:
        record = _verify(user, method="counter", actor=actor,
                         person=person_key(secret, f"counter:{document}",
                                           number[DOCUMENT_PERSON.get(document, slice(None))]),
                         document=document)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return record


def revoke(user: User, *, actor: User, reason: str) -> VerificationRecord:
    """Take a resident verification back (a mistake, a person who moved away)."""
    reason = clean_text(reason or "")
    if not reason:
        raise DomainError(N_("A reason is required to revoke a verification."))
    not_verified = Conflict(N_("This account is not verified as a resident."))
    if not user.is_verified:
        raise not_verified
    # Taken back only if still verified when written: of two members of staff (or a double
    # click) revoking at once, the second is told it is done. The guarded UPDATE claims the
    # row (its level unchanged); the model decides the level the account falls back to.
    update_one(sa.update(User).where(User.id == user.id, User.is_verified)
               .values(verification_level=User.verification_level), not_verified)
    db.session.refresh(user)
    keep_person_in_rounds(user)
    user.is_verified = False
    record = VerificationRecord(user_id=user.id, level=level_of(user), method="counter",
                                verified_by_id=actor.id, details={"revoked": True})
    db.session.add(record)
    audit.record("account.verification_revoked", actor=actor, target=user, reason=reason)
    db.session.commit()
    return record


def history(user: User) -> list[VerificationRecord]:
    return list(db.session.scalars(
        sa.select(VerificationRecord).where(VerificationRecord.user_id == user.id)
        .order_by(VerificationRecord.id)))


def search_accounts(query: str, limit: int = MAX_SEARCH) -> list[User]:
    """Accounts whose e-mail address or display name contains ``query`` (staff search)."""
    query = clean_text(query or "")[:100]
    if not query:
        return []
    pattern = "%" + query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return list(db.session.scalars(
        sa.select(User).where(
            User.deleted_at.is_(None),
            sa.or_(sa.func.lower(User.email).like(pattern, escape="\\"),
                   sa.func.lower(User.display_name).like(pattern, escape="\\")))
        .order_by(User.id).limit(limit)))


# --------------------------------------------------------------------------- postal codes


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def normalise_code(text: str) -> str:
    """What a resident typed, as a code: full-width letters, spaces and dashes forgiven."""
    import unicodedata

    text = unicodedata.normalize("NFKC", text or "").upper()
    return "".join(ch for ch in text if ch.isalnum())


def format_code(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


@dataclass(frozen=True)
class GeneratedCodes:
    batch: str
    expires_at: datetime
    codes: list[str]  # plain, shown once


def generate_postal_codes(count: Any, *, valid_days: Any, batch: str,
                          actor: User) -> GeneratedCodes:
    """Generate one-time codes for a mail merge; only their hashes are stored."""
    try:
        count, valid_days = int(count), int(valid_days)
    except (TypeError, ValueError):
        raise DomainError(N_("Please enter whole numbers.")) from None
    if not 1 <= count <= MAX_CODES_PER_BATCH:
        raise DomainError(N_("Between 1 and 5000 codes can be generated at once."))
    if not MIN_VALID_DAYS <= valid_days <= MAX_VALID_DAYS:
        raise DomainError(N_("Codes can be valid between 1 and 365 days."))
    batch = clean_text(batch or "")
    if not batch:
        raise DomainError(N_("Please name the batch (e.g. the mailing's date)."))
    if len(batch) > MAX_BATCH_LABEL:
        raise DomainError(N_("The batch name can be at most 80 characters long."))
    # One name, one batch: the colleague who confirms its posting counts its letters.
    if db.session.scalar(sa.select(PostalCode.id).where(PostalCode.batch == batch)
                         .limit(1)) is not None:
        raise DomainError(N_("A batch of this name exists already. Please choose another "
                             "name."))
    now = utcnow()
    expires_at = now + timedelta(days=valid_days)
    codes = set()
    while len(codes) < count:
        codes.add("".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)))
    plain = sorted(codes)
    try:
        db.session.execute(sa.insert(PostalCode), [
            {"code_hash": hash_code(code), "batch": batch, "created_by_id": actor.id,
             "created_at": now, "expires_at": expires_at} for code in plain])
        audit.record("verification.postal_codes_generated", actor=actor, batch=batch,
                     count=count, expires_at=expires_at.isoformat())
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return GeneratedCodes(batch, expires_at, plain)


def confirm_posted(batch: Any, letters: Any, *, actor: User) -> int:
    """Another member of staff than the one who generated the batch confirms that its
    letters were posted, and how many: only then do its codes work. Returns the count.

    Whoever generated the codes held them all; without this, one insider could generate a
    batch, post nothing, and verify accounts that no resident holds."""
    try:
        letters = int(letters)
    except (TypeError, ValueError):
        raise DomainError(N_("Please enter whole numbers."), field="letters") from None
    batch = clean_text(batch if isinstance(batch, str) else "")
    waiting = PostalCode.batch == batch, PostalCode.posted_at.is_(None)
    generators = db.session.execute(
        sa.select(PostalCode.created_by_id, sa.func.count()).where(*waiting)
        .group_by(PostalCode.created_by_id)).all()
    if not generators:
        raise NotFound(N_("No batch of this name is waiting for its letters to be "
                          "confirmed."), field="batch")
    if any(created_by == actor.id for created_by, _count in generators):
        raise Conflict(N_("You generated this batch: another member of staff must confirm "
                          "that its letters were posted."), field="batch")
    count = sum(n for _created_by, n in generators)
    if letters != count:
        raise DomainError(N_("This batch has %(count)s codes: confirm only when as many "
                             "letters were posted."), count=f"{count:,}", field="letters")
    try:
        done = db.session.execute(
            sa.update(PostalCode).where(*waiting)
            .values(posted_at=utcnow(), posted_confirmed_by_id=actor.id)).rowcount
        if done != count:  # codes were added or confirmed meanwhile: count again
            raise Conflict(N_("The batch changed meanwhile. Please look at it again."))
        audit.record("verification.postal_codes_posted", actor=actor, batch=batch, count=count)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return count


def redeem_postal_code(user: User, text: Any) -> VerificationRecord:
    """The resident enters the code from the letter: the account becomes resident_verified.

    The code is used in the same statement that checks it (unused, unexpired, its letter
    confirmed as posted), so two accounts cannot both use one code. The record names the
    member of staff who generated the code: they held it before the resident did."""
    if user.is_verified:
        raise Conflict(N_("This account is already verified as a resident."))
    code = normalise_code(text if isinstance(text, str) else "")
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        raise DomainError(N_("This code is not valid. Please check the letter and try again."))
    now = utcnow()
    try:
        # Not by whoever generated the code: a letter they printed themselves checked no
        # address, as nobody sees a document when staff verify their own account at the
        # counter. The code stays unused.
        row = db.session.execute(
            sa.update(PostalCode)
            .where(PostalCode.code_hash == hash_code(code), PostalCode.used_at.is_(None),
                   PostalCode.expires_at > now, PostalCode.posted_at.is_not(None),
                   sa.or_(PostalCode.created_by_id.is_(None),
                          PostalCode.created_by_id != user.id))
            .values(used_at=now, used_by_id=user.id)
            .returning(PostalCode.id, PostalCode.batch, PostalCode.created_by_id)).first()
        if row is None:
            db.session.rollback()
            found = db.session.execute(
                sa.select(PostalCode.created_by_id, PostalCode.posted_at, PostalCode.used_at,
                          PostalCode.expires_at)
                .where(PostalCode.code_hash == hash_code(code))).first()
            if found is not None and found.created_by_id == user.id:
                raise Conflict(N_("You generated this code yourself: another member of "
                                  "staff must verify your account."))
            if (found is not None and found.posted_at is None and found.used_at is None
                    and found.expires_at > now):
                raise Conflict(N_("This code cannot be used yet: the town hall has not yet "
                                  "confirmed that the letters were posted. Please try again "
                                  "in a few days, or ask the town hall."))
            raise DomainError(N_(
                "This code is not valid, already used or expired. Please check the letter "
                "or ask the town hall for a new one."))
        record = _verify(user, method="postal_code", actor=None, batch=row.batch,
                         code_id=row.id)
        record.verified_by_id = row.created_by_id
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return record


def postal_batches() -> list[dict[str, Any]]:
    """Per batch: how many codes, used and expired, when its letters were confirmed as
    posted (None while any waits) and by whom it was generated (no codes: only hashes)."""
    now = utcnow()
    rows = db.session.execute(
        sa.select(PostalCode.batch, sa.func.count(), sa.func.count(PostalCode.used_at),
                  sa.func.min(PostalCode.created_at), sa.func.max(PostalCode.expires_at),
                  sa.func.count(PostalCode.posted_at), sa.func.max(PostalCode.posted_at),
                  sa.func.max(PostalCode.created_by_id), sa.func.min(PostalCode.created_by_id))
        .group_by(PostalCode.batch).order_by(sa.func.min(PostalCode.created_at).desc())).all()
    return [{"batch": b, "count": n, "used": used, "created_at": created,
             "expires_at": expires, "expired": expires <= now,
             "posted_at": posted_at if posted == n else None,
             "generated_by": {low, high}}
            for b, n, used, created, expires, posted, posted_at, high, low in rows]


# --------------------------------------------------------------------------- national ID


def person_secret() -> str:
    """The key of the person hashes: VERIFICATION_KEY, or SECRET_KEY when it is unset."""
    from flask import current_app

    return current_app.config.get("VERIFICATION_KEY") or current_app.config["SECRET_KEY"]


def person_key(secret: str, provider: str, subject: str) -> str:
    """The keyed hash kept of a person: a national-ID provider's pseudonym of them, or the
    number of the document staff saw (``provider`` "counter:<kind of document>")."""
    key = hashlib.sha256(("national-id:" + secret).encode()).digest()
    return hmac.new(key, f"{provider}\x00{subject}".encode(), hashlib.sha256).hexdigest()


def round_person_key(secret: str, round_id: int, verified_person: str) -> str:
    """What stands for a verified person in one round (``participants.person_key``): a
    hash of the person's hash, keyed again, so that it says nothing across rounds."""
    key = hashlib.sha256(("round-person:" + secret).encode()).digest()
    return hmac.new(key, f"{round_id}\x00{verified_person}".encode(), hashlib.sha256).hexdigest()


def keep_person_in_rounds(user: User) -> None:
    """Before an account stops standing for its verified person (deleted, or its
    verification taken back), give each of its participants the person's key for that
    round (does not commit). The account's votes keep counting, so in a round that is, or
    later becomes, for verified residents only, the person's next account must be refused,
    as it is when the first account still stands for them."""
    if not user.verified_person:
        return
    secret = person_secret()
    for participant in db.session.scalars(sa.select(Participant).where(
            Participant.user_id == user.id, Participant.person_key.is_(None))):
        key = round_person_key(secret, participant.round_id, user.verified_person)
        # One person, one key per round: another account of theirs may hold it already.
        if db.session.scalar(sa.select(Participant.id).where(
                Participant.round_id == participant.round_id,
                Participant.person_key == key)) is None:
            participant.person_key = key


def verify_with_national_id(user: User, result: Any, *, secret: str) -> VerificationRecord:
    """Record the answer of a ``NationalIdVerifier`` (only the attribute is kept, and a
    keyed hash of the provider's pseudonym of the person, under the app's ``secret``).

    One person verifies one account: the same person again for another account that is
    still verified is refused (Conflict), by the database's unique index on
    ``users.verified_person``. An answer without the pseudonym is refused. A new secret
    forgets the earlier hashes (``person_secret``: VERIFICATION_KEY keeps them)."""
    from deliberation.services.national_id import NationalIdResult

    if not isinstance(result, NationalIdResult):
        raise DomainError(N_("The national ID app's answer could not be read."))
    if not result.resident:
        raise DomainError(N_("The national ID app did not confirm an address in this town."))
    if not isinstance(result.subject, str) or not result.subject.strip():
        # Without the provider's pseudonym one card could verify any number of accounts.
        raise DomainError(N_("The national ID app did not say who you are, so your account "
                             "could not be verified. Nothing was saved. Please ask the "
                             "town hall."))
    try:
        record = _verify(user, method="national_id", actor=None,
                         person=person_key(secret, result.provider, result.subject),
                         provider=result.provider)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return record
