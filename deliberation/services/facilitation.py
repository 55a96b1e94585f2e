"""Facilitators' work on rounds: settings, phases, seed proposals, assisted participants.

Every function validates, writes, audits and commits (one transaction each).
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from deliberation import small_counts
from deliberation.database import add_unique, db, update_one
from deliberation.engine import threshold
from deliberation.errors import N_, Conflict, DomainError, NotFound
from deliberation.models import Escalation, Participant, Proposal, Round, User, Vote, audit
from deliberation.models._common import utcnow
from deliberation.models.round import (
    CLUSTERING_METHODS,
    ELIGIBILITY,
    MODERATION_MODES,
    PHASES,
)
from deliberation.services.participants import key_people
from deliberation.services.proposals import lock_proposals
from deliberation.services.rounds import LISTED_SETTINGS
from deliberation.services.snapshot_requests import request_snapshot
from deliberation.services.votes import check_accepts_votes, record_vote, votes_of
from deliberation.text import NOT_UTF8, clean_text, text_key

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
MAX_SEED_LENGTH = 1000  # seed proposals, written by facilitators
ROUND_FIELDS = (
    "title", "summary", "description", "background_links", "opens_at", "closes_at", "phase",
    "moderation_mode", "eligibility", "clustering_method", "max_groups", "threshold_policy",
    "report_threshold", "reports_need_participation", "report_support_step",
    "min_group_display", "response_deadline_days", "open_data_enabled",
)
# Whole-number settings and their ranges: the one check for the form, the CLI and imports.
ROUND_NUMBER_RANGES = {
    "report_threshold": (1, 100, N_("Enter a whole number from 1 to 100.")),
    "report_support_step": (0, 1000, N_("Enter a whole number from 0 to 1000 (0: the number of reports needed does not grow).")),
    # under the small-count minimum a figure would be saved and never applied
    "min_group_display": (small_counts.MIN_COUNT, 100, N_("Enter a whole number from 5 to 100.")),
    "response_deadline_days": (1, 365, N_("Enter a whole number from 1 to 365.")),
}
# The settings the snapshot is computed with: a change of them asks for a new one.
SNAPSHOT_FIELDS = frozenset(("threshold_policy", "clustering_method", "max_groups"))
ASSISTED_KINDS = ("resident", "e_citizen", "visitor", "unknown")


# What a facilitator reads when a threshold setting is out of range (the threshold
# engine's own messages are for developers).
POLICY_MESSAGES = {
    "min_votes": N_("Enter a whole number from 0 to 10,000,000."),
    "min_agrees": N_("Enter a whole number from 0 to 10,000,000."),
    "min_group_size": N_("Enter a whole number from 0 to 10,000,000."),
    "min_groups": N_("Enter a whole number from 1 to 12."),
    "confidence": N_("Enter a confidence of at least 0.5 and below 1."),
    "min_group_agree": N_("Enter a share between 0 and 1."),
    "min_consensus": N_("Enter a share between 0 and 1."),
    "min_bridging": N_("Enter a score between −1 and 1."),
}


def validate_policy(policy: dict[str, Any]) -> dict[str, Any]:
    """The threshold policy with defaults filled in, checked by the threshold engine's own
    rule; DomainError naming the bad value."""
    try:
        return threshold.normalise_policy(policy)
    except threshold.PolicyError as error:
        message = POLICY_MESSAGES.get(error.field or "", N_("A threshold setting is out of range."))
        raise DomainError(message, field=error.field) from None


def _clean_round_texts(values: dict[str, Any]) -> dict[str, Any]:
    """The round's texts as every stored text: no control or format characters (a NUL,
    which PostgreSQL refuses; a right-to-left override that turns a title around)."""
    values = dict(values)
    for key in ("title", "summary", "description"):
        if isinstance(values.get(key), str):
            values[key] = clean_text(values[key])
    if isinstance(values.get("background_links"), list):
        values["background_links"] = [
            {k: clean_text(v) if isinstance(v, str) else v for k, v in link.items()}
            if isinstance(link, dict) else link for link in values["background_links"]]
    return values


def _validate_round(values: dict[str, Any]) -> None:
    if not (values.get("title") or "").strip():
        raise DomainError(N_("A title is required."), field="title")
    checks = (("phase", PHASES), ("moderation_mode", MODERATION_MODES),
              ("eligibility", ELIGIBILITY), ("clustering_method", CLUSTERING_METHODS))
    for key, allowed in checks:
        if key in values and values[key] not in allowed:
            raise DomainError(N_("Choose one of the listed values."), field=key)
    if "max_groups" in values and not 2 <= values["max_groups"] <= threshold.MAX_GROUPS:
        raise DomainError(N_("The maximum number of groups must be between 2 and 12."),
                          field="max_groups")
    opens, closes = values.get("opens_at"), values.get("closes_at")
    if opens is not None and closes is not None and closes <= opens:
        raise DomainError(N_("The closing time must be after the opening time."), field="closes_at")
    for key, (low, high, message) in ROUND_NUMBER_RANGES.items():
        if key in values and (isinstance(values[key], bool) or not isinstance(values[key], int)
                              or not low <= values[key] <= high):
            raise DomainError(message, field=key)
    if "reports_need_participation" in values and \
            not isinstance(values["reports_need_participation"], bool):
        raise DomainError(N_("Choose one of the listed values."),
                          field="reports_need_participation")
    for link in values.get("background_links") or []:
        if not str(link.get("url", "")).startswith(("https://", "http://")):
            raise DomainError(N_("Background links must start with https:// or http://."),
                              field="background_links")


def rounds_newest_first() -> list[Round]:
    return list(db.session.scalars(sa.select(Round).order_by(Round.created_at.desc())))


def round_figures(round_: Round) -> dict[str, int]:
    """Proposals (any status), participants and votes of the round."""
    def count(model: Any) -> int:
        return db.session.scalar(sa.select(sa.func.count()).select_from(model)
                                 .where(model.round_id == round_.id)) or 0

    return {"proposals": count(Proposal), "participants": count(Participant),
            "votes": count(Vote)}


ROUND_EXISTS = N_("A round with this address already exists.")
PHASE_REFUSES = N_("The round cannot do this in its current phase.")


def create_round(*, slug: str, actor: User | None, **values: Any) -> Round:
    slug = slug.strip().lower()
    if not SLUG_RE.match(slug):
        raise DomainError(N_("The address may contain only a-z, 0-9 and '-' (up to 64)."),
                          field="slug")
    if db.session.scalar(sa.select(Round.id).where(Round.slug == slug)) is not None:
        raise Conflict(ROUND_EXISTS, field="slug")
    values = _clean_round_texts({k: v for k, v in values.items() if k in ROUND_FIELDS})
    values.setdefault("phase", "draft")
    _validate_round(values)
    if "threshold_policy" in values:
        values["threshold_policy"] = validate_policy(values["threshold_policy"])
    round_ = Round(slug=slug, created_by_id=actor.id if actor else None, **values)
    add_unique(round_, Conflict(ROUND_EXISTS, field="slug"))
    audit.record("round.create", actor=actor, target=round_, round_id=round_.id, slug=slug)
    db.session.commit()
    return round_


ROUND_SAVED_MEANWHILE = N_(
    "Someone saved this round's settings after you opened this page (another facilitator, "
    "or you in another tab or with a second click). Yours are not saved yet: check the "
    "round's page and its history, then save again to replace them with what you entered.")


# A change of the rule or of the grouping of an armed round is confirmed like arming: on
# the preview of what it adds to and removes from the agenda on the latest snapshot.
RULE_CHANGE_UNCONFIRMED = N_(
    "Escalation is armed for this round: a new rule applies to the council's agenda at once. "
    "Check below what it would change and confirm it. Nothing is saved yet.")
RULE_CHANGE_REGROUPED = N_(
    "The votes were grouped again after you looked at the preview. Check the new preview "
    "and confirm again.")
# Regrouping settings: what the new groups would send cannot be previewed before they exist.
REGROUPING_FIELDS = frozenset(("clustering_method", "max_groups"))


class RuleChangeUnconfirmed(Conflict):
    """A change of an armed round's rule needs the preview confirmed first."""


def update_round(round_: Round, *, actor: User | None, seen: datetime | None = None,
                 rule_confirmed: bool = False, rule_snapshot_id: int | None = None,
                 **values: Any) -> Round:
    """Change a round's settings (audited).

    ``seen``: when the round was last saved as the edit page showed it. Settings saved since
    (another facilitator, a second tab) are not overwritten unseen: a conflict, and nothing
    is stored.

    On an armed round with a snapshot, a change of the rule or of the grouping
    (``SNAPSHOT_FIELDS``) is stored only when ``rule_confirmed`` and ``rule_snapshot_id`` is
    the latest snapshot, the one whose ``preview_rule_change`` the facilitator confirmed
    (``RuleChangeUnconfirmed`` otherwise, nothing stored). A confirmed change of the grouping
    disarms the round: the new groups are previewed and armed again like a new round's."""
    values = _clean_round_texts({k: v for k, v in values.items() if k in ROUND_FIELDS})
    _validate_round(values)
    if "threshold_policy" in values:
        values["threshold_policy"] = validate_policy(values["threshold_policy"])
    changed, before = {}, {}
    for key, value in values.items():
        old = getattr(round_, key)
        if key == "threshold_policy":  # as the engine reads it: defaults filled in
            with contextlib.suppress(threshold.PolicyError):  # a stored invalid rule as is
                old = threshold.normalise_policy(old)
        if old != value:
            changed[key], before[key] = _jsonable(value), _jsonable(old)
    if not changed:
        return round_
    if changed.get("phase") == "draft":
        # A draft is invisible: its proposals, results and agenda items would leave the
        # public pages without a withdrawal and its reason.
        raise DomainError(N_("A round that has been public cannot go back to draft."),
                          field="phase")
    if seen is not None and round_.updated_at != seen:
        raise Conflict(ROUND_SAVED_MEANWHILE)
    confirmed = _check_rule_change(round_, changed.keys(), rule_confirmed, rule_snapshot_id)
    regrouped = confirmed is not None and bool(REGROUPING_FIELDS & changed.keys())
    # The round is claimed only if nobody saved it since it was read here: of two saves at
    # the same moment the second finds it changed, on both databases, and stores nothing.
    update_one(sa.update(Round).where(Round.id == round_.id,
                                      Round.updated_at == round_.updated_at)
               .values(updated_at=utcnow()), Conflict(ROUND_SAVED_MEANWHILE))
    for key in changed:
        setattr(round_, key, values[key])
    if "eligibility" in changed:
        key_people(round_)
    if SNAPSHOT_FIELDS & changed.keys() or ("phase" in changed and round_.phase == "closed"):
        request_snapshot(round_)  # closing takes a final snapshot
    # "before" for the settings that decide what can escalate: the round's public page
    # lists each change of them (deliberation/services/rounds.py: rule_changes).
    details = {} if confirmed is None else {"snapshot_id": confirmed}
    audit.record("round.update", actor=actor, target=round_, round_id=round_.id,
                 changed=changed,
                 before={k: v for k, v in before.items() if k in LISTED_SETTINGS}, **details)
    if regrouped:
        round_.escalation_armed = False
        audit.record("round.escalation_disarmed", actor=actor, target=round_,
                     round_id=round_.id, reason=None)
    db.session.commit()
    return round_


def _check_rule_change(round_: Round, changed: Any, confirmed: bool,
                       snapshot_id: int | None) -> int | None:
    """The snapshot on whose preview an armed round's change of rule was confirmed (None
    when the change needs no confirmation); raises when it was not confirmed on the latest."""
    from deliberation.models.snapshot import latest_snapshot

    if not (round_.escalation_armed and SNAPSHOT_FIELDS & set(changed)):
        return None
    snapshot = latest_snapshot(round_.id)
    if snapshot is None:  # nothing to send yet: the first snapshot is judged by the new rule
        return None
    if not confirmed:
        raise RuleChangeUnconfirmed(RULE_CHANGE_UNCONFIRMED)
    if snapshot.id != snapshot_id:
        raise RuleChangeUnconfirmed(RULE_CHANGE_REGROUPED)
    return snapshot.id


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


TRANSITIONS = {
    # action: (allowed from, to)
    "open_collecting": (("draft", "voting", "reflection"), "collecting"),
    "open_voting": (("draft", "collecting", "reflection"), "voting"),
    "reflect": (("collecting", "voting"), "reflection"),
    "close": (("draft", "collecting", "voting", "reflection"), "closed"),
    "reopen": (("closed",), "voting"),
}


def transition(round_: Round, action: str, *, actor: User | None, reason: str | None = None
               ) -> Round:
    """Open, close or reopen. Closing freezes votes and requests a final snapshot."""
    if action not in TRANSITIONS:
        raise DomainError(N_("Unknown action."))
    allowed, target = TRANSITIONS[action]
    if round_.phase not in allowed:
        raise Conflict(PHASE_REFUSES, phase=round_.phase, action=action)
    before = round_.phase
    # Only from the phase read above: the same button pressed twice at once (or by two
    # facilitators) changes the phase once, and the second request hears that it cannot.
    update_one(sa.update(Round).where(Round.id == round_.id, Round.phase == before)
               .values(phase=target), Conflict(PHASE_REFUSES, phase=before, action=action))
    round_.phase = target
    now = utcnow()
    if action == "close":
        request_snapshot(round_)  # the final snapshot
        if round_.closes_at is None or round_.closes_at > now:
            round_.closes_at = now
    if action in ("reopen", "open_collecting", "open_voting"):
        if round_.opens_at is None or round_.opens_at > now:
            round_.opens_at = now
        if round_.closes_at is not None and round_.closes_at <= now:
            round_.closes_at = None
    audit.record(f"round.{action}", actor=actor, target=round_, round_id=round_.id,
                 reason=reason, phase_before=before, phase_after=target)
    db.session.commit()
    return round_


def parse_upload(raw: bytes) -> list[str]:
    """Proposals from an uploaded text or one-column CSV file (UTF-8, with or without a
    byte order mark): one per line, blanks skipped."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DomainError(NOT_UTF8, field="upload") from None
    return parse_lines(text)


def parse_lines(raw: str) -> list[str]:
    """Proposals from a text or one-column CSV upload: one per line, blanks skipped."""
    out = []
    for row in csv.reader(io.StringIO(raw.replace("\r\n", "\n"))):
        text = clean_text(",".join(row))
        if text:
            out.append(text)
    return out


def add_seed_proposals(round_: Round, texts: list[str], *, actor: User | None
                       ) -> tuple[list[Proposal], list[str]]:
    """Add seed proposals (published at once). Returns (added, duplicates skipped)."""
    lock_proposals(round_)
    existing = set(db.session.scalars(
        sa.select(Proposal.text_key).where(Proposal.round_id == round_.id)))
    added, duplicates = [], []
    for raw in texts:
        text = clean_text(raw)
        if not text:
            continue
        if len(text) > MAX_SEED_LENGTH:
            raise DomainError(N_("A proposal is longer than %(num)d characters: %(start)s…"),
                              num=MAX_SEED_LENGTH, start=text[:40])
        key = text_key(text)
        if key in existing:
            duplicates.append(text)
            continue
        existing.add(key)
        proposal = Proposal(round_id=round_.id, text=text, text_key=key, status="published",
                            is_seed=True, moderated_at=utcnow(),
                            moderated_by_id=actor.id if actor else None)
        db.session.add(proposal)
        added.append(proposal)
    if not added and not duplicates:
        raise DomainError(N_("No proposals given."))
    db.session.flush()
    # The same form sent twice at once (a double click): on SQLite the other copy may have
    # committed after the read above, and before this flush took the write lock.
    taken = set(db.session.scalars(sa.select(Proposal.text_key).where(
        Proposal.round_id == round_.id, Proposal.id.not_in([p.id for p in added]),
        Proposal.text_key.in_([p.text_key for p in added]))))
    for proposal in [p for p in added if p.text_key in taken]:
        added.remove(proposal)
        duplicates.append(proposal.text)
        db.session.delete(proposal)
    db.session.flush()
    for proposal in added:
        audit.record("proposal.seed", actor=actor, target=proposal, round_id=round_.id)
    if added:
        request_snapshot(round_)
    db.session.commit()
    return added, duplicates


def seed_proposals(round_: Round) -> list[Proposal]:
    return list(db.session.scalars(sa.select(Proposal).where(
        Proposal.round_id == round_.id, Proposal.is_seed.is_(True)).order_by(Proposal.id)))


def assisted_participants(round_: Round) -> list[Participant]:
    return list(db.session.scalars(sa.select(Participant).where(
        Participant.round_id == round_.id, Participant.source == "assisted")
        .order_by(Participant.id)))


def create_assisted_participant(round_: Round, *, label: str, kind: str,
                                actor: User | None) -> Participant:
    label = clean_text(label)
    if not label or len(label) > 80:
        raise DomainError(N_("A label of 1 to 80 characters is required."), field="label")
    if kind not in ASSISTED_KINDS:
        raise DomainError(N_("Unknown participant kind."), field="kind")
    taken = Conflict(N_("There is already a participant named “%(label)s” in this round: "
                        "open them from the list, or give this sheet another name."),
                     field="label", label=label)
    if db.session.scalar(sa.select(Participant.id).where(
            Participant.round_id == round_.id, Participant.label == label)) is not None:
        raise taken
    participant = Participant(round_id=round_.id, source="assisted", kind=kind, label=label)
    add_unique(participant, taken)
    audit.record("participant.assisted_create", actor=actor, target=participant,
                 round_id=round_.id, label=label, kind=kind)
    db.session.commit()
    return participant


def get_assisted_participant(round_: Round, participant_id: int) -> Participant:
    participant = db.session.get(Participant, participant_id)
    if participant is None or participant.round_id != round_.id or not participant.is_assisted:
        raise NotFound(N_("There is no such assisted participant in this round."))
    return participant


def record_assisted_votes(round_: Round, participant: Participant, votes: dict[int, int | None],
                          *, actor: User | None) -> int:
    """Write the votes of an assisted participant (None: no answer, left as it is).

    Same rules and writes as the vote service (`record_vote`, VoteEvent source
    "assisted"), all votes of one paper form in one transaction; unchanged votes are skipped.
    """
    if not participant.is_assisted or participant.round_id != round_.id:
        raise NotFound(N_("There is no such assisted participant in this round."))
    check_accepts_votes(round_)
    published = set(db.session.scalars(sa.select(Proposal.id).where(
        Proposal.round_id == round_.id, Proposal.status == "published")))
    current = votes_of(participant)
    changed = 0
    try:
        for proposal_id, value in votes.items():
            if value is None:
                continue
            if proposal_id not in published:
                raise DomainError(N_("A vote was given for a proposal that is not open for votes."))
            if value not in (-1, 0, 1):
                raise DomainError(N_("Votes are agree, disagree or pass."))
            if current.get(proposal_id) == value:
                continue
            record_vote(round_, participant, proposal_id, value, "assisted")
            changed += 1
        if changed:
            audit.record("vote.assisted", actor=actor, target=participant, round_id=round_.id,
                         votes=changed)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return changed


def _eligible_proposals(round_id: int) -> dict[int, Proposal]:
    """The round's proposals the rule is applied to (published, not meta), by id."""
    return {p.id: p for p in db.session.scalars(sa.select(Proposal).where(
        Proposal.round_id == round_id, Proposal.status == "published",
        Proposal.is_meta.is_(False)).order_by(Proposal.id))}


def _sent_to_council(round_id: int) -> dict[int, bool]:
    """The round's proposals that went to the council, each with whether its agenda item
    still stands. A proposal goes once: a withdrawn item is not sent again either."""
    return dict(db.session.execute(sa.select(
        Escalation.proposal_id, Escalation.withdrawn_at.is_(None)).where(
        Escalation.round_id == round_id)).tuples().all())


def preview_rule_change(round_: Round, values: dict[str, Any]) -> dict[str, Any]:
    """What a change of an armed round's settings would do on the latest snapshot: the
    proposals the new rule sends to the council that the current one does not (not yet on
    the agenda), the ones that would no longer meet it (an agenda item stays), and whether
    the groups are drawn again (which no preview can show before it is done). A proposal
    the new rule would pass but whose outcome a flagged block or staff-typed paper votes
    decide waits for a facilitator's review instead, as the runner holds it: ``held``. So
    does one that such votes newly keep below the new rule, though it would meet it
    without them: ``kept``."""
    from deliberation.engine import coordination
    from deliberation.engine.escalation import snapshot_decisions
    from deliberation.models.snapshot import latest_snapshot

    snapshot = latest_snapshot(round_.id)
    regroups = any(key in values and values[key] != getattr(round_, key)
                   for key in REGROUPING_FIELDS)
    if snapshot is None:
        return {"snapshot": None, "added": [], "held": [], "kept": [], "removed": [],
                "regroups": regroups}
    new_policy = validate_policy(values.get("threshold_policy", round_.policy))
    proposals = _eligible_proposals(round_.id)
    before = snapshot_decisions(snapshot, round_.policy, list(proposals))
    after = snapshot_decisions(snapshot, new_policy, list(proposals))
    escalated = _sent_to_council(round_.id)
    on_agenda = {pid for pid, standing in escalated.items() if standing}
    # The runner screens the proposals not yet on the agenda, in both directions.
    waits = coordination.would_hold(snapshot, round_.id, new_policy, {
        pid: decision for pid, decision in after.items() if pid not in escalated})
    waited = coordination.would_hold(snapshot, round_.id, round_.policy, {
        pid: decision for pid, decision in before.items() if pid not in escalated})
    newly = {pid: decision for pid, decision in after.items()
             if decision.escalate and not before[pid].escalate and pid not in escalated}
    added = [(proposals[pid], decision.support) for pid, decision in newly.items()
             if pid not in waits]
    held = [proposals[pid] for pid in newly if pid in waits]
    kept = [proposals[pid] for pid in sorted(waits - waited) if not after[pid].escalate]
    removed = [(proposals[pid], pid in on_agenda) for pid, decision in before.items()
               if decision.escalate and not after[pid].escalate and pid not in waits]
    added.sort(key=lambda item: item[1], reverse=True)
    return {"snapshot": snapshot, "added": added, "held": held, "kept": kept,
            "removed": removed, "regroups": regroups}


def preview_escalations(round_: Round, policy: dict[str, Any]) -> dict[str, Any]:
    """What-if: which published, non-meta proposals would escalate now under ``policy``,
    decided by the threshold engine itself on the latest snapshot (nothing is written).

    ``escalate``: those that would go to the council; ``on_agenda``: those that meet the
    rule but went already (a proposal goes once, and one whose item was withdrawn is not
    sent again), so a round disarmed and armed again does not promise them twice."""
    from deliberation.engine.escalation import snapshot_decisions
    from deliberation.models.snapshot import latest_snapshot

    policy = validate_policy(policy)
    snapshot = latest_snapshot(round_.id)
    if snapshot is None:
        return {"snapshot": None, "escalate": [], "on_agenda": [], "evaluated": 0}
    proposals = _eligible_proposals(round_.id)
    sent = _sent_to_council(round_.id)
    decisions = snapshot_decisions(snapshot, policy, list(proposals))
    passing = [(proposals[pid], decision.support, threshold.lens_summary(decision.to_dict()))
               for pid, decision in decisions.items() if decision.escalate]
    passing.sort(key=lambda item: item[1], reverse=True)
    return {"snapshot": snapshot, "evaluated": len(decisions),
            "escalate": [item for item in passing if item[0].id not in sent],
            "on_agenda": [item for item in passing if item[0].id in sent]}
