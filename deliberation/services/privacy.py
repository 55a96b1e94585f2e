"""A person's rights over their data: download everything about them, delete the account.

Deleting an account erases the personal data (email, display name, password hash, locale)
and keeps the ``users`` row as an empty shell so that audit entries still resolve. The
person's ``Participant`` rows lose their link to the account (``user_id`` NULL), so their
votes and proposals stay in the statistics under the participant's anonymous id.
"""

from __future__ import annotations

import base64
import secrets
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from deliberation.database import db
from deliberation.errors import N_, DomainError
from deliberation.models import (
    AgendaAnswerSeen,
    AuditEntry,
    Escalation,
    OfficialResponse,
    OutgoingMail,
    Participant,
    Proposal,
    Report,
    Round,
    User,
    VerificationRecord,
    Vote,
    VoteEvent,
    audit,
)
from deliberation.models._common import utcnow
from deliberation.services import verification, visibility

EXPORT_FORMAT = "hiroba-my-data/2"
ACCOUNT_TABLES = ("users", "participants")
# Columns never handed out, not even to their owner: credentials and session secrets, and
# the raw text of mails (it holds one-time links).
SECRET_COLUMNS = {"password_hash", "session_nonce", "session_ids", "message"}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):  # a file stored in a row (the town's logo): as base64
        return base64.b64encode(value).decode("ascii")
    return value


def references() -> list[tuple[sa.Table, sa.Column, str]]:
    """Every column that refers to an account or to a participant (table, column, target),
    read from the model metadata: a new table that refers to one is exported too."""
    found = []
    for table in db.metadata.sorted_tables:
        for fk in sorted(table.foreign_keys, key=lambda fk: fk.parent.name):
            target = fk.column.table.name
            if target in ACCOUNT_TABLES and fk.column.name == "id":
                found.append((table, fk.parent, target))
    return found


def _extra_conditions(user: User) -> dict[str, list[Any]]:
    """References that are not foreign keys: log entries about the account, mails to it."""
    conditions: dict[str, list[Any]] = {
        "audit_log": [sa.and_(AuditEntry.target_type == "users",
                              AuditEntry.target_id == user.id)],
    }
    if user.email:
        conditions["mail_outbox"] = [OutgoingMail.recipient == user.email]
    return conditions


def account_records(user: User) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table that refers to the account (or to its participants), by
    table; references to other people in those rows are left out."""
    ids = {"users": {user.id}, "participants": set(db.session.scalars(
        sa.select(Participant.id).where(Participant.user_id == user.id)))}
    conditions: dict[str, list[Any]] = {}
    for table, column, target in references():
        if ids[target]:
            conditions.setdefault(table.name, []).append(column.in_(ids[target]))
    for name, extra in _extra_conditions(user).items():
        conditions.setdefault(name, []).extend(extra)
    foreign = {(table.name, column.name): target for table, column, target in references()}
    records: dict[str, list[dict[str, Any]]] = {}
    for name in sorted(conditions):
        if not conditions[name]:
            continue
        table = db.metadata.tables[name]
        order = list(table.primary_key.columns)
        rows = db.session.execute(sa.select(table).where(sa.or_(*conditions[name]))
                                  .order_by(*order)).mappings()
        out = []
        for row in rows:
            item = {}
            for key, value in row.items():
                if key in SECRET_COLUMNS:
                    continue
                target = foreign.get((name, key))
                if target is not None and value is not None and value not in ids[target]:
                    continue  # someone else's account or participant
                item[key] = _plain(value)
            out.append(item)
        records[name] = out
    records["users"] = [{key: _plain(value) for key, value in db.session.execute(
        sa.select(db.metadata.tables["users"]).where(User.id == user.id)).mappings().one()
        .items() if key not in SECRET_COLUMNS}]
    return records


def export_data(user: User) -> dict[str, Any]:
    """Everything stored about the account, as JSON-serialisable data: readable sections
    first, then ``records``, every row of every table that refers to the account."""
    participants = db.session.scalars(
        sa.select(Participant).where(Participant.user_id == user.id).order_by(Participant.id)
    ).all()
    rounds = {r.id: r for r in db.session.scalars(
        sa.select(Round).where(Round.id.in_([p.round_id for p in participants]))
    )}
    participant_ids = [p.id for p in participants]
    votes = db.session.execute(
        sa.select(Vote, Proposal)
        .join(Proposal, Proposal.id == Vote.proposal_id)
        .join(Participant, sa.and_(Participant.round_id == Vote.round_id,
                                   Participant.id == Vote.participant_id))
        .where(Participant.user_id == user.id)
        .order_by(Vote.created_at, Vote.participant_id, Vote.proposal_id)
    ).all()
    history = db.session.execute(
        sa.select(VoteEvent, Proposal)
        .join(Proposal, Proposal.id == VoteEvent.proposal_id)
        .where(VoteEvent.participant_id.in_(participant_ids))
        .order_by(VoteEvent.id)
    ).all()
    proposals = db.session.scalars(
        sa.select(Proposal).where(Proposal.author_id.in_(participant_ids)).order_by(Proposal.id)
    ).all()
    reports = db.session.execute(
        sa.select(Report, Proposal)
        .join(Proposal, Proposal.id == Report.proposal_id)
        .where(Report.reporter_id == user.id)
        .order_by(Report.id)
    ).all()
    seen = db.session.execute(
        sa.select(AgendaAnswerSeen, Escalation, Proposal)
        .join(OfficialResponse, OfficialResponse.id == AgendaAnswerSeen.response_id)
        .join(Escalation, Escalation.id == OfficialResponse.escalation_id)
        .join(Proposal, Proposal.id == Escalation.proposal_id)
        .where(AgendaAnswerSeen.user_id == user.id)
        .order_by(AgendaAnswerSeen.id)
    ).all()
    audit_entries = db.session.scalars(
        sa.select(AuditEntry).where(sa.or_(
            AuditEntry.actor_id == user.id,
            sa.and_(AuditEntry.target_type == "users", AuditEntry.target_id == user.id)))
        .order_by(AuditEntry.id)
    ).all()
    own = set(participant_ids)

    def round_ref(round_id: int) -> dict[str, Any]:
        round_ = rounds.get(round_id) or db.session.get(Round, round_id)
        return {"slug": round_.slug, "title": round_.title} if round_ else {}

    def text_of(proposal: Proposal) -> str | None:
        """One's own proposals in full; others' only while they are public."""
        return proposal.text if proposal.author_id in own else visibility.public_text(proposal)

    return {
        "format": EXPORT_FORMAT,
        "exported_at": _iso(utcnow()),
        "account": {
            "email": user.email,
            "display_name": user.display_name,
            "role": user.role,
            "kind": user.kind,
            "locale": user.locale,
            "reading": user.reading,
            "created_at": _iso(user.created_at),
        },
        "consent": {"version": user.consent_version, "given_at": _iso(user.consented_at)},
        "participations": [
            {
                "round": round_ref(p.round_id),
                "anonymous_id": p.id,
                "kind": p.kind,
                "joined_at": _iso(p.created_at),
            }
            for p in participants
        ],
        "votes": [
            {
                "round": round_ref(v.round_id),
                "proposal_id": prop.id,
                "proposal_text": text_of(prop),
                "value": v.value,
                "voted_at": _iso(v.updated_at),
            }
            for v, prop in votes
        ],
        "vote_history": [
            {
                "round": round_ref(e.round_id),
                "proposal_id": prop.id,
                "proposal_text": text_of(prop),
                "value": e.value,
                "source": e.source,
                "at": _iso(e.created_at),
            }
            for e, prop in history
        ],
        "proposals": [
            {
                "round": round_ref(p.round_id),
                "id": p.id,
                "text": p.text,
                "status": p.status,
                "rejection_reason": p.rejection_reason,
                "moderated_at": _iso(p.moderated_at),
                "created_at": _iso(p.created_at),
            }
            for p in proposals
        ],
        "reports": [
            {
                "proposal_id": prop.id,
                "proposal_text": text_of(prop),
                "reason": r.reason,
                "created_at": _iso(r.created_at),
                "resolution": r.resolution,
            }
            for r, prop in reports
        ],
        "answers_seen": [
            {
                "agenda_item": esc.id,
                "proposal_text": text_of(prop),
                "answered_at": _iso(s.answered_at),
                "seen_at": _iso(s.seen_at),
            }
            for s, esc, prop in seen
        ],
        "audit_entries": [
            {
                "at": _iso(e.created_at),
                "action": e.action,
                "by_you": e.actor_id == user.id,
                "target": e.target_type,
                "round": round_ref(e.round_id) if e.round_id else None,
                "reason": e.reason,
            }
            for e in audit_entries
        ],
        "records": account_records(user),
    }


def delete_account(user: User, password: str) -> None:
    """Erase the account's personal data; votes and proposals stay, unlinked."""
    if user.deleted_at is not None:
        raise DomainError(N_("This account has already been deleted."))
    if not user.check_password(password):
        raise DomainError(N_("The password is wrong."), field="password")
    verification.keep_person_in_rounds(user)
    # The account's creation time stays on its participants, without the link to it: an
    # account made in a burst of others is evidence for the coordination screen.
    db.session.execute(
        sa.update(Participant).where(Participant.user_id == user.id).values(
            user_id=None, account_created_at=user.created_at)
    )
    db.session.execute(
        sa.update(Report).where(Report.reporter_id == user.id).values(reporter_id=None)
    )
    if user.email:  # mails not yet sent to the address go with it
        db.session.execute(sa.delete(OutgoingMail).where(OutgoingMail.recipient == user.email))
    user.email = None
    user.display_name = ""
    user.password_hash = None
    user.locale = None
    user.reading = None
    user.verified_person = None  # the person may verify a new account
    # ... and the records say how and when this one was verified, no longer by whom: the
    # same hash on the next account's records would tie the two, and so this one's votes
    # (kept with when the account was made) to a person.
    for record in db.session.scalars(sa.select(VerificationRecord).where(
            VerificationRecord.user_id == user.id)):
        if "person" in (record.details or {}):
            record.details = {k: v for k, v in record.details.items() if k != "person"}
    user.deleted_at = utcnow()
    user.session_nonce = secrets.token_hex(8)  # every session of the account ends
    user.session_ids = ""
    audit.record("account.deleted", actor=None, target=user)
    db.session.commit()
