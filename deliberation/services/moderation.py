"""Moderation: the queue of pending and reported proposals, and the decisions on them.

Every decision is audited and requests a new snapshot (what is clustered changed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from deliberation.database import db, update_one
from deliberation.errors import N_, Conflict, DomainError
from deliberation.models import (
    AuditEntry,
    Participant,
    Proposal,
    Report,
    Round,
    SnapshotProposalStat,
    User,
    audit,
)
from deliberation.models._common import utcnow
from deliberation.services import votes
from deliberation.services.snapshot_requests import request_snapshot

ACTIONS = ("approve", "reject", "meta", "restore")
SIMILARITY_THRESHOLD = 0.35


def ngrams(key: str, n: int = 2) -> set[str]:
    key = key.replace(" ", "")
    if len(key) < n:
        return {key} if key else set()
    return {key[i:i + n] for i in range(len(key) - n + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


@dataclass
class QueueItem:
    proposal: Proposal
    author_kind: str | None
    reports: list[Report] = field(default_factory=list)
    similar: list[tuple[Proposal, float]] = field(default_factory=list)


def queue(round_: Round, limit_similar: int = 3) -> list[QueueItem]:
    """Pending proposals, hidden ones and published ones with open reports, oldest first."""
    open_reports: dict[int, list[Report]] = {}
    for report in db.session.scalars(
        sa.select(Report).join(Proposal).where(Proposal.round_id == round_.id,
                                               Report.resolved_at.is_(None))
        .order_by(Report.created_at)
    ):
        open_reports.setdefault(report.proposal_id, []).append(report)
    # In open rounds proposals are published at once and reviewed after: participants'
    # proposals that nobody has reviewed yet are in the queue too (not seeds or imports).
    imported = sa.select(Participant.id).where(Participant.round_id == round_.id,
                                               Participant.source == "import")
    unreviewed = sa.and_(Proposal.status == "published", Proposal.moderated_at.is_(None),
                         Proposal.is_seed.is_(False), Proposal.author_id.is_not(None),
                         Proposal.author_id.not_in(imported))
    proposals = db.session.scalars(
        sa.select(Proposal).where(
            Proposal.round_id == round_.id,
            sa.or_(Proposal.status.in_(("pending", "hidden")),
                   Proposal.id.in_(list(open_reports) or [-1]), unreviewed),
        ).order_by(Proposal.created_at, Proposal.id)
    ).all()
    # Pending ones too: four near-copies sent at once would otherwise each look new, and
    # approved together they split one idea's votes four ways.
    others = db.session.execute(
        sa.select(Proposal.id, Proposal.text_key).where(
            Proposal.round_id == round_.id, Proposal.status.in_(("published", "pending")))
    ).all()
    other_grams = [(pid, ngrams(key)) for pid, key in others]
    kinds = dict(db.session.execute(
        sa.select(Participant.id, Participant.kind).where(Participant.round_id == round_.id)
    ).all())
    sources = dict(db.session.execute(
        sa.select(Participant.id, Participant.source).where(Participant.round_id == round_.id)
    ).all())
    items = []
    # hidden after reports first: a proposal nobody can see waits for one click to restore
    proposals = sorted(proposals, key=lambda p: p.status != "hidden")
    for proposal in proposals:
        grams = ngrams(proposal.text_key)
        scored = sorted(
            ((jaccard(grams, g), pid) for pid, g in other_grams if pid != proposal.id),
            reverse=True,
        )
        similar = [(db.session.get(Proposal, pid), score) for score, pid in scored[:limit_similar]
                   if score >= SIMILARITY_THRESHOLD]
        kind = None
        if proposal.author_id is not None:
            kind = "assisted" if sources.get(proposal.author_id) == "assisted" \
                else kinds.get(proposal.author_id)
        items.append(QueueItem(proposal, kind, open_reports.get(proposal.id, []), similar))
    return items


def backlog(round_id: int | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(Proposal).where(
        Proposal.status.in_(("pending", "hidden")))
    if round_id is not None:
        query = query.where(Proposal.round_id == round_id)
    return db.session.scalar(query) or 0


def pending_by_round() -> dict[int, int]:
    """{round id: proposals waiting for approval} for the rounds that have any."""
    return dict(db.session.execute(
        sa.select(Proposal.round_id, sa.func.count()).where(Proposal.status == "pending")
        .group_by(Proposal.round_id)).tuples().all())


def seen_token(proposal: Proposal) -> str:
    """What the moderation page showed of a proposal (its status, and whether anyone had
    reviewed it), sent back with a decision: ``moderate`` refuses to decide on a proposal
    that has changed since."""
    return f"{proposal.id}:{proposal.status}:{int(proposal.moderated_at is not None)}"


def seen_from_form(tokens: Iterable[str]) -> dict[int, tuple[str, bool]]:
    """The ``seen_token`` values a form sent back, by proposal id; others are left out (a
    proposal without one is decided as it stands)."""
    seen = {}
    for token in tokens:
        pid, _, rest = str(token).partition(":")
        status, _, reviewed = rest.partition(":")
        if pid.isascii() and pid.isdigit() and len(pid) < 19 and reviewed in ("0", "1"):
            seen[int(pid)] = (status, reviewed == "1")
    return seen


DECIDED_MEANWHILE = N_(
    "Someone else decided on a selected proposal after this page was opened. Nothing was "
    "changed: please check the list again and choose.")


def moderate(round_: Round, proposal_ids: list[int], action: str, *, actor: User | None,
             reason: str | None = None,
             seen: Mapping[int, tuple[str, bool]] | None = None) -> int:
    """Apply one decision to several proposals of the round; returns how many changed.

    approve: published (reports dismissed); reject: rejected with a reason shown to the
    author (reports upheld); meta: published and marked meta (excluded from clustering);
    restore: dismiss the reports and publish again. ``seen`` (``seen_from_form``): how the
    page showed the proposals; when one has changed since (two facilitators, or two tabs,
    deciding at once), nothing is changed and a Conflict is raised.
    """
    if action not in ACTIONS:
        raise DomainError(N_("Unknown moderation action."))
    # Nothing selected comes first: a reason asked for a rejection of nothing would be
    # typed in vain before the page said to select.
    if not proposal_ids:
        raise DomainError(N_("Select at least one proposal."))
    reason = (reason or "").strip() or None
    if action == "reject" and not reason:
        raise DomainError(N_("A reason is required to reject a proposal."), field="reason")
    proposals = db.session.scalars(sa.select(Proposal).where(
        Proposal.id.in_(proposal_ids), Proposal.round_id == round_.id)).all()
    if len(proposals) != len(set(proposal_ids)):
        raise DomainError(N_("Some of the selected proposals are not in this round."))
    now = utcnow()
    standing = _standing(round_, [p.id for p in proposals if p.status in ("published", "hidden")
                                  and action in ("reject", "meta") and not p.is_meta])
    for proposal in proposals:
        if seen is not None and proposal.id in seen:
            status, reviewed = seen[proposal.id]
            # The guard takes the row: a simultaneous decision waits for this one's commit,
            # then finds the proposal changed.
            update_one(sa.update(Proposal).where(
                Proposal.id == proposal.id, Proposal.status == status,
                Proposal.moderated_at.is_not(None) if reviewed else
                Proposal.moderated_at.is_(None)).values(moderated_at=now),
                Conflict(DECIDED_MEANWHILE))
        before = proposal.status
        if action == "reject":
            proposal.status, proposal.rejection_reason = "rejected", reason
        else:
            proposal.status, proposal.rejection_reason = "published", None
            if action == "meta":
                proposal.is_meta = True
            if before == "pending":
                votes.author_auto_vote(proposal)  # as in Pol.is, at approval
        proposal.moderated_at, proposal.moderated_by_id = now, actor.id if actor else None
        resolution = "upheld" if action == "reject" else "dismissed"
        for report in db.session.scalars(sa.select(Report).where(
                Report.proposal_id == proposal.id, Report.resolved_at.is_(None))):
            report.resolved_at, report.resolution = now, resolution
        if action in ("restore", "approve"):
            proposal.report_count = 0
        audit.record(f"proposal.{action}", actor=actor, target=proposal, round_id=round_.id,
                     reason=reason, status_before=before, status_after=proposal.status,
                     **standing.get(proposal.id, {}))
    request_snapshot(round_)
    db.session.commit()
    return len(proposals)


def _standing(round_: Round, proposal_ids: list[int]) -> dict[int, dict[str, object]]:
    """How many had voted on each proposal and whether it met the rule for the council on
    the latest snapshot, recorded when a moderator takes a published proposal out of the
    running: the round's public page shows it (``removed_after_publication``).

    The number is the snapshot's, like every public count (None without one): the live
    votes would differ from it by the votes cast since, and tell whoever knows that a
    neighbour just voted whether they voted on this proposal."""
    if not proposal_ids:
        return {}
    from deliberation.engine.escalation import snapshot_decisions
    from deliberation.models.snapshot import latest_snapshot

    snapshot = latest_snapshot(round_.id)
    counts = {} if snapshot is None else dict(db.session.execute(
        sa.select(SnapshotProposalStat.proposal_id,
                  SnapshotProposalStat.agree + SnapshotProposalStat.disagree
                  + SnapshotProposalStat.passes)
        .where(SnapshotProposalStat.snapshot_id == snapshot.id,
               SnapshotProposalStat.group_id.is_(None),
               SnapshotProposalStat.proposal_id.in_(proposal_ids))).tuples().all())
    decisions = snapshot_decisions(snapshot, round_.policy, proposal_ids) if snapshot else {}
    return {pid: {"votes": counts.get(pid, 0) if snapshot is not None else None,
                  "met_rule": decisions[pid].escalate if pid in decisions else None}
            for pid in proposal_ids}


@dataclass(frozen=True)
class Removal:
    """A published proposal a moderator took out of the running, as the public sees it."""

    at: datetime
    action: str  # "reject" or "meta"
    votes: int | None
    met_rule: bool | None


def removed_after_publication(round_id: int) -> list[Removal]:
    """Published proposals rejected or marked meta (so they never escalate), oldest first,
    from the audit log: one moderator's decision must not make a popular proposal vanish
    unseen. Neither the text nor the reason written for the author is included."""
    rows = db.session.execute(
        sa.select(AuditEntry.created_at, AuditEntry.action, AuditEntry.details).where(
            AuditEntry.round_id == round_id,
            AuditEntry.action.in_(("proposal.reject", "proposal.meta")))
        .order_by(AuditEntry.created_at, AuditEntry.id)).all()
    return [Removal(at, action.removeprefix("proposal."), (details or {}).get("votes"),
                    (details or {}).get("met_rule"))
            for at, action, details in rows
            if (details or {}).get("status_before") in ("published", "hidden")]


@dataclass(frozen=True)
class Backlog:
    """What waits for a facilitator in a round, as the public sees it: counts and the
    oldest wait, never the texts."""

    pending: int
    oldest_pending: datetime | None
    hidden: int


def review_backlog(round_id: int) -> Backlog:
    """New proposals waiting for moderation and reported ones hidden until a review: a
    moderator who sits on a popular proposal does so in the open."""
    rows = dict((status, (count, oldest)) for status, count, oldest in db.session.execute(
        sa.select(Proposal.status, sa.func.count(), sa.func.min(Proposal.created_at))
        .where(Proposal.round_id == round_id, Proposal.status.in_(("pending", "hidden")))
        .group_by(Proposal.status)).tuples())
    pending, oldest = rows.get("pending", (0, None))
    return Backlog(pending=pending, oldest_pending=oldest, hidden=rows.get("hidden", (0,))[0])


def median_time_to_moderate(round_id: int | None = None) -> timedelta | None:
    """Median time from submission to the first decision, over moderated proposals.

    Imported proposals (with a Pol.is comment id) are left out: they were submitted
    elsewhere, often years before a facilitator here approved them."""
    query = sa.select(Proposal.created_at, Proposal.moderated_at).where(
        Proposal.moderated_at.is_not(None), Proposal.is_seed.is_(False),
        Proposal.external_id.is_(None))
    if round_id is not None:
        query = query.where(Proposal.round_id == round_id)
    durations = sorted(m - c for c, m in db.session.execute(query) if m >= c)
    if not durations:
        return None
    mid = len(durations) // 2
    if len(durations) % 2:
        return durations[mid]
    return (durations[mid - 1] + durations[mid]) / 2


def pending_since(round_id: int) -> timedelta | None:
    oldest = db.session.scalar(sa.select(sa.func.min(Proposal.created_at)).where(
        Proposal.round_id == round_id, Proposal.status == "pending"))
    return utcnow() - oldest if oldest else None
