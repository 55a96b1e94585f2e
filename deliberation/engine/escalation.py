"""The escalation engine: put proposals on the council's agenda, with frozen evidence.

Runs after every cluster snapshot. Each published, non-meta proposal without an
escalation is evaluated against the round's policy on the snapshot's per-group counts;
those that pass are escalated once (unique per proposal), with the evidence of that moment
and an OfficialResponse awaiting the council. Facilitators may escalate by hand or
withdraw, always with a reason; both go to the audit log.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from deliberation.database import db, update_one
from deliberation.engine import coordination, threshold
from deliberation.engine.town_relation import votes_by_kind
from deliberation.errors import N_, Conflict, DomainError, NotFound
from deliberation.models import (
    ClusterSnapshot,
    Escalation,
    EscalationReview,
    OfficialResponse,
    Participant,
    Proposal,
    Round,
    SnapshotGroup,
    SnapshotProposalStat,
    User,
    audit,
)
from deliberation.models._common import utcnow
from deliberation.text import clean_text

log = logging.getLogger(__name__)

ALREADY_ON_AGENDA = N_("This proposal is already on the agenda.")
ALREADY_DECIDED = N_("This review has already been decided.")
TYPIST_MAY_NOT_DECIDE = N_("You typed in paper votes in this round yourself: another "
                           "facilitator or an administrator must decide on this.")


def snapshot_decisions(snapshot: ClusterSnapshot, policy: dict[str, Any],
                       proposal_ids: list[int] | None = None) -> dict[int, threshold.Decision]:
    """The rule's decision for each proposal with counts on the snapshot."""
    sizes = dict(db.session.execute(
        sa.select(SnapshotGroup.group_id, SnapshotGroup.size).where(
            SnapshotGroup.snapshot_id == snapshot.id)).tuples().all())
    query = sa.select(SnapshotProposalStat.proposal_id, SnapshotProposalStat.group_id,
                      SnapshotProposalStat.agree, SnapshotProposalStat.disagree,
                      SnapshotProposalStat.passes).where(
        SnapshotProposalStat.snapshot_id == snapshot.id)
    if proposal_ids is not None:
        query = query.where(SnapshotProposalStat.proposal_id.in_(proposal_ids))
    per_group: dict[int, list[threshold.GroupCounts]] = defaultdict(list)
    overall: dict[int, tuple[int, int]] = {}
    for pid, gid, agree, disagree, passes in db.session.execute(query):
        if gid is None:
            overall[pid] = (agree + disagree + passes, agree)
        else:
            per_group[pid].append(threshold.GroupCounts(gid, sizes.get(gid, 0), agree,
                                                        disagree, passes))
    statistics = snapshot.statistics or {}
    gac = statistics.get("group_aware_consensus", {})
    bridging = statistics.get("bridging", {})  # absent on older snapshots
    robustness = statistics.get("robustness", {})
    groupings, holds = robustness.get("groupings", []), robustness.get("holds", {})
    decisions = {}
    for pid in set(overall) | set(per_group):
        total, agrees = overall.get(pid, (0, 0))
        score = bridging.get(str(pid)) or {}
        decisions[pid] = threshold.evaluate(
            policy, per_group.get(pid, []), total_votes=total, total_agrees=agrees,
            group_aware_consensus=gac.get(str(pid)), bridging=score.get("intercept"),
            bridging_factor=score.get("factor"), groupings=groupings,
            holds_for=holds.get(str(pid), []))
    return decisions


def evidence(decision: threshold.Decision, snapshot: ClusterSnapshot | None) -> dict[str, Any]:
    """The frozen evidence of an escalation (JSON)."""
    data = decision.to_dict()
    data["group_sizes"] = {str(g.group_id): g.size for g in decision.groups}
    if snapshot is not None:
        data["snapshot"] = {"id": snapshot.id, "k": snapshot.k,
                            "created_at": snapshot.created_at.isoformat(),
                            "manifest": snapshot.manifest}
    data["recorded_at"] = utcnow().isoformat()
    return data


def _create(round_: Round, proposal_id: int, *, kind: str, decision: threshold.Decision | None,
            snapshot: ClusterSnapshot | None, actor: User | None,
            reason: str | None) -> Escalation:
    now = utcnow()
    frozen = evidence(decision, snapshot) if decision else {"recorded_at": now.isoformat()}
    # Who voted how by relation to the town, as the snapshot counted (small counts
    # withheld); at this moment when there is none.
    frozen["votes_by_kind"] = votes_by_kind(
        round_.id, proposal_id, round_.min_group_display,
        as_of=snapshot.last_vote_event_id if snapshot is not None else None)
    esc = Escalation(
        proposal_id=proposal_id, round_id=round_.id,
        snapshot_id=snapshot.id if snapshot else None, kind=kind, reason=reason,
        evidence=frozen,
        support=decision.support if decision else 0.0, escalated_at=now,
        escalated_by_id=actor.id if actor else None,
    )
    esc.response = OfficialResponse(
        status="received", due_at=now + timedelta(days=round_.response_deadline_days))
    db.session.add(esc)
    db.session.flush()
    audit.record(f"escalation.{kind}", actor=actor, target=esc, round_id=round_.id,
                 reason=reason, proposal_id=proposal_id, support=esc.support)
    return esc


def run_for_snapshot(snapshot_id: int) -> list[Escalation]:
    """Escalate every eligible proposal on this snapshot (idempotent)."""
    for attempt in range(2):
        try:
            created = _run(snapshot_id)
            db.session.commit()
            return created
        except IntegrityError:  # another worker escalated the same proposal meanwhile
            db.session.rollback()
            if attempt:
                raise
    return []


def _run(snapshot_id: int) -> list[Escalation]:
    snapshot = db.session.get(ClusterSnapshot, snapshot_id)
    if snapshot is None or snapshot.status != "ok":
        return []
    round_ = db.session.get(Round, snapshot.round_id)
    if not round_.escalation_armed:  # the facilitator has not confirmed the preview yet
        return []
    candidates = list(db.session.scalars(
        sa.select(Proposal.id).where(
            Proposal.round_id == round_.id, Proposal.status == "published",
            Proposal.is_meta.is_(False),
            ~sa.exists().where(Escalation.proposal_id == Proposal.id))))
    if not candidates:
        return []
    decisions = snapshot_decisions(snapshot, round_.policy, candidates)
    decisions = {pid: d for pid, d in decisions.items() if pid in set(candidates)}
    passing = {pid: d for pid, d in decisions.items() if d.escalate}
    # A coordinated block never decides alone, neither by carrying a proposal over the rule
    # nor by keeping one below it: such proposals wait for a facilitator.
    held, coordination_notes = coordination.screen(snapshot, round_, decisions)
    created = []
    for pid in sorted(set(passing) - held):
        esc = _create(round_, pid, kind="automatic", decision=passing[pid],
                      snapshot=snapshot, actor=None, reason=None)
        if pid in coordination_notes:
            esc.evidence = {**esc.evidence, "coordination": coordination_notes[pid]}
        created.append(esc)
    if created:
        log.info("round %s: escalated %s", round_.slug, [e.proposal_id for e in created])
    return created


def current_decision(esc: Escalation) -> threshold.Decision | None:
    """The item's decision on the round's latest snapshot (``current_decisions``)."""
    return current_decisions([esc]).get(esc.id)


def current_decisions(escalations: list[Escalation]) -> dict[int, threshold.Decision]:
    """For "support has since fallen": each item's rule as frozen in its evidence (a later
    change of the round's rule is not a fall in support; the page says apart that the rule
    changed), on its round's latest snapshot, by escalation id.

    A coordinated block cannot make an item fall either, nor can paper votes typed in by
    staff: when the item fails the rule only with the latest snapshot's blocks, or only
    with the paper votes, or only with both, the decision without them is its current one. An
    item a facilitator approved because screened votes kept it below the rule is counted
    without those votes again, as in its evidence. One read of the counts per round and
    rule, not per item."""
    import json

    from deliberation.models.snapshot import latest_snapshot

    by_round: dict[int, list[Escalation]] = defaultdict(list)
    for esc in escalations:
        by_round[esc.round_id].append(esc)
    out: dict[int, threshold.Decision] = {}
    for round_id, items in by_round.items():
        snapshot = latest_snapshot(round_id)
        if snapshot is None:
            continue
        # Paper votes typed in by staff cannot make an item fall either, alone or with a block.
        flagged = coordination.flagged_participants(snapshot)
        assisted = coordination.assisted_participants(round_id)
        screened_sets = [removed for removed in (flagged, assisted) if removed]
        if len(screened_sets) == 2:  # with only one of them, the union is that one again
            screened_sets.append(flagged | assisted)
        by_policy: dict[str, list[Escalation]] = defaultdict(list)
        for esc in items:
            policy = (esc.evidence or {}).get("policy") or esc.round.policy
            by_policy[json.dumps(policy, sort_keys=True)].append(esc)
        for key, group in by_policy.items():
            policy = json.loads(key)
            pids = [esc.proposal_id for esc in group]
            try:
                decisions = snapshot_decisions(snapshot, policy, pids)
            except threshold.PolicyError:  # an invalid stored rule: no current figures
                continue
            withouts = [coordination.decisions_without(snapshot, policy, pids, removed)
                        for removed in screened_sets]
            for esc in group:
                screened = (esc.evidence or {}).get("coordination") or {}
                if screened.get("effect") == "blocked":
                    decision = coordination.decisions_without(
                        snapshot, policy, [esc.proposal_id],
                        coordination.screened_out(screened, snapshot, round_id),
                    ).get(esc.proposal_id)
                else:
                    decision = decisions.get(esc.proposal_id)
                    if decision is not None and not decision.escalate:
                        decision = next(
                            (alternative for without in withouts
                             if (alternative := without.get(esc.proposal_id)) is not None
                             and alternative.escalate), decision)
                if decision is not None:
                    out[esc.id] = decision
    return out


def check_not_screened(review: EscalationReview, actor: User) -> None:
    """Refuse (Conflict) when ``actor``'s own votes are among those the review is about:
    they typed in the paper votes, or their account is one of the flagged block (a
    facilitator who voted with accounts of their own)."""
    evidence = review.evidence or {}
    if evidence.get("source") == coordination.ASSISTED and \
            actor.id in coordination.assisted_typists(review.round_id):
        raise Conflict(TYPIST_MAY_NOT_DECIDE)
    if evidence.get("source") != coordination.ASSISTED or evidence.get("joint"):
        snapshot = db.session.get(ClusterSnapshot, review.snapshot_id) \
            if review.snapshot_id else None
        mine = db.session.scalar(sa.select(Participant.id).where(
            Participant.round_id == review.round_id, Participant.user_id == actor.id))
        if snapshot is not None and mine is not None and \
                mine in coordination.flagged_participants(snapshot):
            raise Conflict(N_("Your own account voted in this round as one of the accounts "
                              "this review is about: another facilitator or an "
                              "administrator must decide on this."))


def escalate_manually(proposal_id: int, *, actor: User, reason: str) -> Escalation:
    """A facilitator puts a proposal on the agenda by hand (reason required)."""
    reason = clean_text(reason or "")
    if not reason:
        raise DomainError(N_("A reason is required to escalate by hand."))
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound(N_("No such proposal."))
    if proposal.status != "published":
        raise DomainError(N_("Only published proposals can be escalated."))
    if proposal.is_meta:
        raise DomainError(N_("Meta statements (about the participants or the process) are "
                             "never escalated."))
    if not proposal.round.is_public:
        # Nobody outside the staff sees a draft round: an item from it would oblige the
        # council while its public page and evidence stay hidden.
        raise Conflict(N_("This round is not open yet: none of its proposals can be sent "
                          "to the council."))
    if db.session.scalar(sa.select(Escalation.id).where(Escalation.proposal_id == proposal_id)):
        raise Conflict(ALREADY_ON_AGENDA)
    # By hand is no way around a review: one that waits is decided on its own form, where
    # whoever typed in the paper votes it is about may not decide, and they may not send
    # the proposal by hand after someone else dismissed it either.
    review = db.session.scalar(sa.select(EscalationReview).where(
        EscalationReview.proposal_id == proposal_id))
    if review is not None and review.status == "pending":
        raise Conflict(N_("This proposal waits for a review of the votes that decide it: "
                          "decide there, on the round's page, whether to send it to the "
                          "council."))
    if review is not None and review.status == "dismissed":
        check_not_screened(review, actor)
    from deliberation.models.snapshot import latest_snapshot

    round_ = proposal.round
    snapshot = latest_snapshot(round_.id)
    decision = None
    if snapshot is not None:
        decision = snapshot_decisions(snapshot, round_.policy, [proposal_id]).get(proposal_id)
    try:
        esc = _create(round_, proposal_id, kind="manual", decision=decision, snapshot=snapshot,
                      actor=actor, reason=reason)
        db.session.commit()
    except IntegrityError:
        # Another facilitator, or the clustering worker, escalated it since the check above.
        db.session.rollback()
        raise Conflict(ALREADY_ON_AGENDA) from None
    return esc


def escalate_reviewed(review: Any, *, actor: User, reason: str) -> Escalation:
    """Escalate a proposal a facilitator approved after a coordination review (does not
    commit): the evidence is the rule's decision on the review's snapshot, with the review.
    When the block kept the proposal below the rule, the decision is the one without the
    block's votes (the figures the facilitator approved it on)."""
    snapshot = db.session.get(ClusterSnapshot, review.snapshot_id) if review.snapshot_id else None
    round_ = db.session.get(Round, review.round_id)
    decision = None
    if snapshot is not None:
        if (review.evidence or {}).get("effect") == "blocked":
            decision = coordination.decisions_without(
                snapshot, round_.policy, [review.proposal_id],
                coordination.screened_out(review.evidence, snapshot, round_.id),
            ).get(review.proposal_id)
        else:
            decision = snapshot_decisions(snapshot, round_.policy,
                                          [review.proposal_id]).get(review.proposal_id)
    esc = _create(round_, review.proposal_id, kind="automatic", decision=decision,
                  snapshot=snapshot, actor=actor, reason=reason)
    esc.evidence = {**esc.evidence, "coordination": review.evidence,
                    "review": {"id": review.id, "approved_by_id": actor.id,
                               "decided_at": utcnow().isoformat()}}
    return esc


def withdraw(escalation_id: int, *, actor: User, reason: str) -> Escalation:
    """Withdraw an escalation (kept for transparency; reason required)."""
    reason = clean_text(reason or "")
    if not reason:
        raise DomainError(N_("A reason is required to withdraw an escalation."))
    esc = db.session.get(Escalation, escalation_id)
    if esc is None:
        raise NotFound(N_("No such escalation."))
    already = Conflict(N_("This escalation was already withdrawn."))
    if esc.withdrawn_at is not None:
        raise already
    # Written only if still on the agenda: of two facilitators (or a double click)
    # withdrawing at the same moment, the second finds it withdrawn, on both databases,
    # and the first one's reason stays.
    update_one(sa.update(Escalation).where(Escalation.id == esc.id,
                                           Escalation.withdrawn_at.is_(None))
               .values(withdrawn_at=utcnow(), withdrawn_by_id=actor.id,
                       withdrawal_reason=reason), already)
    db.session.refresh(esc)
    audit.record("escalation.withdrawn", actor=actor, target=esc, round_id=esc.round_id,
                 reason=reason, proposal_id=esc.proposal_id)
    db.session.commit()
    return esc


def decide_review(review_id: int, action: str, *, actor: User, reason: str) -> EscalationReview:
    """A facilitator approves (the proposal escalates now) or dismisses a held escalation."""
    reason = clean_text(reason or "")
    if action not in ("approve", "dismiss"):
        raise DomainError(N_("Unknown review action."))
    if not reason:
        raise DomainError(N_("A reason is required to decide on a held escalation."))
    review = db.session.get(EscalationReview, review_id)
    if review is None:
        raise NotFound(N_("No such review."))
    if review.status != "pending":
        raise Conflict(ALREADY_DECIDED)
    check_not_screened(review, actor)
    if action == "approve" and (review.proposal.is_meta or review.proposal.status != "published"):
        raise Conflict(N_("This proposal can no longer be escalated (meta, hidden or rejected)."))
    try:
        # Decided only if still pending when written: a second facilitator answering the
        # same review at the same moment finds it decided, on both databases.
        update_one(sa.update(EscalationReview)
                   .where(EscalationReview.id == review.id, EscalationReview.status == "pending")
                   .values(status="approved" if action == "approve" else "dismissed",
                           decided_at=utcnow(), decided_by_id=actor.id, reason=reason),
                   Conflict(ALREADY_DECIDED))
        db.session.refresh(review)
        audit.record(f"escalation.review_{review.status}", actor=actor, target=review,
                     round_id=review.round_id, reason=reason, proposal_id=review.proposal_id)
        if action == "approve":
            escalate_reviewed(review, actor=actor, reason=reason)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return review
