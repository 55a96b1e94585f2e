"""The outbox: requests queue composed mails, the sender delivers them with retries.

Queuing is one INSERT in the caller's transaction, so a mail exists exactly when the change
that caused it was committed, and no request waits for a mail server. ``deliver_due`` is
called by the sender loop (deliberation/jobs/mail_sender.py): it claims one due row at a
time with a compare-and-set on ``next_attempt_at`` (several senders never send the same
row twice at once), sends it outside any transaction, deletes it once the server took it
(the message may hold a sign-in link), and on failure retries after 1, 2, 4 ... minutes
(at most an hour apart) until ``max_attempts``, when the row stays as ``failed``.
A sender that dies mid-send leaves the row claimed for ``CLAIM_SECONDS``; then it is sent
again (at least once, rarely twice).
"""

from __future__ import annotations

import email
import hashlib
import hmac
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination

from deliberation.database import db
from deliberation.errors import N_, NotFound
from deliberation.mail.compose import Mail, compose
from deliberation.mail.transport import MailTransportError, Transport
from deliberation.models import MailSuppression, OutgoingMail, User, audit
from deliberation.models._common import utcnow
from deliberation.models.mail import OUTBOX_STATUSES
from deliberation.services import accounts

log = logging.getLogger(__name__)

CLAIM_SECONDS = 120
FIRST_RETRY_SECONDS = 60
LONGEST_RETRY_SECONDS = 3600
DEFAULT_MAX_ATTEMPTS = 12  # about seven hours of retries


@dataclass(frozen=True)
class Sender:
    """Who the mails come from (config ``MAIL_FROM``, ``MAIL_FROM_NAME``)."""

    address: str
    name: str

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2] or "localhost"


def queue(mail: Mail, *, purpose: str, sender: Sender) -> OutgoingMail:
    """Add a mail to the outbox (committed with the caller's transaction)."""
    row = OutgoingMail(
        recipient=mail.to,
        subject=mail.subject[:200],
        purpose=purpose,
        message=compose(mail, from_address=sender.address, from_name=sender.name,
                        message_id_domain=sender.domain),
        status="pending",
        attempts=0,
        next_attempt_at=utcnow(),
    )
    db.session.add(row)
    return row


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(LONGEST_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1)))


def _claim_next(now: datetime) -> OutgoingMail | None:
    candidate = db.session.execute(
        sa.select(OutgoingMail.id, OutgoingMail.next_attempt_at)
        .where(OutgoingMail.status == "pending", OutgoingMail.next_attempt_at <= now)
        .order_by(OutgoingMail.next_attempt_at, OutgoingMail.id).limit(1)
    ).first()
    if candidate is None:
        db.session.rollback()
        return None
    claimed = db.session.execute(
        sa.update(OutgoingMail)
        .where(OutgoingMail.id == candidate.id, OutgoingMail.status == "pending",
               OutgoingMail.next_attempt_at == candidate.next_attempt_at)
        .values(next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS),
                attempts=OutgoingMail.attempts + 1)
    ).rowcount
    db.session.commit()
    if claimed != 1:
        return _claim_next(now)  # another sender took it: look again
    return db.session.get(OutgoingMail, candidate.id)


def deliver_due(transport: Transport, *, envelope_from: str, limit: int = 50,
                max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> tuple[int, int]:
    """Send up to ``limit`` due mails; returns (sent, failed attempts)."""
    sent = failed = 0
    for _ in range(limit):
        now = utcnow()
        row = _claim_next(now)
        if row is None:
            break
        row_id, recipient, message, attempts = row.id, row.recipient, row.message, row.attempts
        db.session.rollback()  # no transaction held open while the server answers
        try:
            transport.send(envelope_from=envelope_from, recipient=recipient, message=message)
        except MailTransportError as error:
            failed += 1
            final = attempts >= max_attempts
            log.warning("mail %s to the outbox's recipient failed (attempt %d%s): %s", row_id,
                        attempts, ", giving up" if final else "", error)
            db.session.execute(
                sa.update(OutgoingMail).where(OutgoingMail.id == row_id).values(
                    status="failed" if final else "pending",
                    next_attempt_at=utcnow() + retry_delay(attempts),
                    last_error=str(error)[:500],
                )
            )
        else:
            sent += 1
            db.session.execute(sa.delete(OutgoingMail).where(OutgoingMail.id == row_id))
        db.session.commit()
    return sent, failed


def pending_count() -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(OutgoingMail)
        .where(OutgoingMail.status == "pending")) or 0


# ----------------------------------------------------------------- the admin's view

_LINK = re.compile(r"https?://[^\s<>\"']+")
_WORD = re.compile(r"[a-z][a-z-]{0,19}")


def mask_link(link: str) -> str:
    """A link without what could let someone act on it: the site and the leading plain
    words of the path stay (``https://site/auth/reset/…``), tokens and queries go."""
    scheme, _sep, rest = link.partition("://")
    host, _sep, path = rest.partition("/")
    kept = []
    for part in path.split("?", 1)[0].split("/"):
        if not _WORD.fullmatch(part):
            break
        kept.append(part)
    return f"{scheme}://{host}/" + "".join(f"{part}/" for part in kept) + "…"


# Mails whose recipient and text together say what a person voted on (the council's answer
# to an item they voted on) or wrote (what became of their proposal).
PERSONAL_PURPOSES = frozenset({"council_answer", "proposal_approved", "proposal_rejected",
                               "proposal_escalated"})


def shown_recipient(row: OutgoingMail) -> str:
    """The recipient as the admin's outbox shows it: only the domain for a personal mail
    (enough to see a failing mail server), the whole address otherwise."""
    if row.purpose in PERSONAL_PURPOSES:
        return "…@" + row.recipient.rpartition("@")[2]
    return row.recipient


def masked_text(row: OutgoingMail, limit: int = 2000) -> str | None:
    """The mail's plain text with every link masked, for the admin (never the full text:
    mails carry sign-in, reset and stop links); None for a personal mail, whose text names
    the proposal."""
    if row.purpose in PERSONAL_PURPOSES:
        return None
    message = email.message_from_string(row.message, policy=policy.default)
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    return _LINK.sub(lambda match: mask_link(match.group(0)), text)[:limit]


def outbox_page(status: str, *, page: int, per_page: int) -> Pagination:
    """One page of the outbox, failed mails first, then the newest; only mails of
    ``status`` when it is one of ``OUTBOX_STATUSES``."""
    query = sa.select(OutgoingMail).order_by(
        sa.case((OutgoingMail.status == "failed", 0), else_=1),
        OutgoingMail.created_at.desc(), OutgoingMail.id.desc())
    if status in OUTBOX_STATUSES:
        query = query.where(OutgoingMail.status == status)
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def counts_by_status() -> dict[str, int]:
    return dict(db.session.execute(
        sa.select(OutgoingMail.status, sa.func.count()).group_by(OutgoingMail.status))
        .tuples().all())


def retry(mail_id: int, *, actor: User | None) -> OutgoingMail:
    """Send a pending or failed mail again now, with a fresh count of attempts."""
    row = db.session.get(OutgoingMail, mail_id)
    if row is None:
        raise NotFound(N_("This mail is no longer in the outbox: it was sent or removed."))
    before = row.status
    row.status, row.attempts, row.next_attempt_at = "pending", 0, utcnow()
    audit.record("mail.retry", actor=actor, target=row, purpose=row.purpose,
                 status_before=before)
    db.session.commit()
    return row


def retry_failed(*, actor: User | None) -> int:
    """Send every failed mail again now; how many."""
    count = db.session.execute(
        sa.update(OutgoingMail).where(OutgoingMail.status == "failed")
        .values(status="pending", attempts=0, next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if count:
        audit.record("mail.retry_failed", actor=actor, count=count)
    db.session.commit()
    return count


# ----------------------------------------------------------------- suppression


def address_hash(address: str, *, secret: str) -> str:
    key = hashlib.sha256(("mail-suppression:" + secret).encode()).digest()
    return hmac.new(key, address.strip().lower().encode(), hashlib.sha256).hexdigest()


def is_suppressed(address: str, *, secret: str) -> bool:
    """Whether the inbox ``address`` delivers to was stopped: a stop from hanako+shop@
    also stops notices to hanako@ and hanako+news@, one inbox (``accounts.mailbox``).
    Stops stored before were kept for the address itself, which is looked up too."""
    keys = {address_hash(accounts.mailbox(address), secret=secret),
            address_hash(address, secret=secret)}
    return db.session.scalar(sa.select(sa.func.count()).select_from(MailSuppression)
                             .where(MailSuppression.address_hash.in_(keys))) > 0


def suppress(address: str, *, secret: str) -> None:
    key = address_hash(accounts.mailbox(address), secret=secret)
    if db.session.get(MailSuppression, key) is None:
        db.session.add(MailSuppression(address_hash=key))
