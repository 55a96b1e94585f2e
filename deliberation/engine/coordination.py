"""Coordinated voting in a round: flag blocks on each snapshot, and hold an escalation that
only such a block decided until a facilitator has looked at it.

The maths is ``clustering.coordination.find_blocks`` (pure); this module reads the round's
votes and arrival times, and asks the escalation engine's question: would the proposal
still pass the rule without the blocks' votes? If not, the escalation waits as an
``EscalationReview`` ("pending review") with the evidence of why; a facilitator approves
(it escalates) or dismisses it, both audited.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from deliberation.database import db
from deliberation.engine import threshold
from deliberation.models import (
    AuditEntry,
    ClusterSnapshot,
    EscalationReview,
    Participant,
    Round,
    SnapshotGroup,
    SnapshotMembership,
    SnapshotProposalStat,
    User,
    Vote,
    VoteEvent,
    audit,
)

STATISTICS_KEY = "coordinated_blocks"


def _seconds(value: datetime | None) -> float:
    return value.timestamp() if value is not None else float("nan")


def blocks_for_round(round_id: int, votes: Any = None,
                     first_votes: Mapping[int, float] | None = None,
                     switches: Mapping[tuple[int, int], tuple[int, float]] | None = None,
                     ) -> list[dict[str, Any]]:
    """The round's coordinated blocks now (JSON for the snapshot's statistics).

    ``votes``: the round's current votes as (participant id, proposal id, value) arrays
    when the caller has them (the clustering runner); otherwise they are read here.
    ``first_votes`` (see ``first_vote_times``) and ``switches`` (see ``switch_times``):
    when the caller keeps them up to date (the runner's vote cache); otherwise read here.

    Only participants with an account are screened: the threat is accounts registered in
    bulk. Assisted participants are entered by staff, and imported ones come from another
    platform's history (an import escalates nothing until a facilitator arms the round).
    Arrival times: when the account was created (kept on the participant when the account
    is deleted), and the participant's first vote. Blocks
    of accounts that changed their answer on one proposal together come after the others
    (``clustering.coordination.find_switch_blocks``)."""
    # Imported here: the clustering runner calls this; the web pages that use this module
    # (the review queue) must not load NumPy and SciPy.
    import numpy as np

    from clustering.coordination import find_blocks, find_switch_blocks

    participants = db.session.execute(
        sa.select(Participant.id,
                  sa.func.coalesce(User.created_at, Participant.account_created_at))
        .outerjoin(User, User.id == Participant.user_id)
        .where(Participant.round_id == round_id, Participant.source == "account")
        .order_by(Participant.id)).all()
    if not participants:
        return []
    ids = [row[0] for row in participants]
    if votes is not None:
        mine = np.isin(votes[0], np.asarray(ids, dtype=np.int64))
        vp, vs, vv = (np.asarray(column)[mine] for column in votes)
    else:
        rows = db.session.execute(
            sa.select(Vote.participant_id, Vote.proposal_id, Vote.value)
            .join(Participant, Participant.id == Vote.participant_id)
            .where(Vote.round_id == round_id, Participant.source == "account")).all()
        vp, vs, vv = zip(*rows, strict=True) if rows else ((), (), ())
    if not len(vp):
        return []
    if first_votes is None:
        first_votes = first_vote_times(round_id)
    created = np.array([_seconds(row[1]) for row in participants])
    first_vote = np.array([first_votes.get(pid, float("nan")) for pid in ids])
    blocks = find_blocks(ids, vp, vs, vv, [created, first_vote])
    if switches is None:
        switches = switch_times(round_id)
    accounts = set(ids)
    changed = [(pid, proposal, value, at) for (pid, proposal), (value, at) in switches.items()
               if pid in accounts]
    if changed:
        blocks += find_switch_blocks(*zip(*changed, strict=True))
    return [block.to_dict() for block in blocks]


def first_vote_times(round_id: int) -> dict[int, float]:
    """When each account participant of the round first voted (epoch seconds).

    A participant's first vote never changes (vote events are only appended), so a reader
    that keeps these times (the runner's vote cache) reads them once and then folds in the
    times of the new events it reads anyway: the earliest time wins (``merge_first_votes``)."""
    accounts = sa.select(Participant.id).where(Participant.round_id == round_id,
                                               Participant.source == "account")
    # Down the round's (round_id, id) events index: a participant's events are in their round.
    rows = db.session.execute(
        sa.select(VoteEvent.participant_id, sa.func.min(VoteEvent.created_at))
        .where(VoteEvent.round_id == round_id, VoteEvent.participant_id.in_(accounts))
        .group_by(VoteEvent.participant_id)).all()
    return {participant_id: _seconds(first) for participant_id, first in rows}


def merge_first_votes(known: dict[int, float], newer: Mapping[int, float]) -> None:
    """Fold first-vote times read from newer events into ``known`` (the earliest wins)."""
    for participant_id, seconds in newer.items():
        if seconds < known.get(participant_id, float("inf")):
            known[participant_id] = seconds


def switch_times(round_id: int) -> dict[tuple[int, int], tuple[int, float]]:
    """The answers changed in the round: for each (participant, proposal) whose answer was
    ever changed, the answer it was last changed to and when (epoch seconds).

    A change is a vote event whose value differs from the pair's event before it. A reader
    that keeps these (the runner's vote cache) reads them once and then follows the new
    events (``note_switches``)."""
    previous = sa.func.lag(VoteEvent.value).over(
        partition_by=(VoteEvent.participant_id, VoteEvent.proposal_id), order_by=VoteEvent.id)
    events = (sa.select(VoteEvent.id, VoteEvent.participant_id, VoteEvent.proposal_id,
                        VoteEvent.value, VoteEvent.created_at, previous.label("previous"))
              .where(VoteEvent.round_id == round_id)
              .subquery())
    found: dict[tuple[int, int], tuple[int, float]] = {}
    note_switches(found, {}, db.session.execute(
        sa.select(events.c.participant_id, events.c.proposal_id, events.c.value,
                  events.c.created_at, events.c.previous)
        .where(events.c.previous != events.c.value)
        .order_by(events.c.id)).tuples())
    return found


def note_switches(known: dict[tuple[int, int], tuple[int, float]],
                  before: Mapping[tuple[int, int], int],
                  events: Iterable[tuple[int, int, int, datetime, int | None]]) -> None:
    """Fold changes of answer into ``known`` from ``events``: (participant, proposal,
    value, created_at, previous value or None) in the order they were cast. A missing
    previous value is the pair's last event among these, else its answer in ``before``
    (the answers held before these events); an event is a change when it differs from it."""
    last: dict[tuple[int, int], int] = {}
    for participant_id, proposal_id, value, created_at, previous in events:
        key = (participant_id, proposal_id)
        if previous is None:
            previous = last.get(key, before.get(key))
        if previous is not None and previous != value:
            known[key] = (value, _seconds(created_at))
        last[key] = value


def flagged_participants(snapshot: ClusterSnapshot) -> set[int]:
    return {pid for block in (snapshot.statistics or {}).get(STATISTICS_KEY, [])
            for pid in block.get("participant_ids", [])}


def decisions_without(snapshot: ClusterSnapshot, policy: dict[str, Any],
                      proposal_ids: list[int], removed: set[int]) -> dict[int, threshold.Decision]:
    """The rule's decisions on the snapshot as if the ``removed`` participants had not voted
    (their votes subtracted from their group's and the overall counts, and they from their
    group's size)."""
    membership = dict(db.session.execute(
        sa.select(SnapshotMembership.participant_id, SnapshotMembership.group_id).where(
            SnapshotMembership.snapshot_id == snapshot.id,
            SnapshotMembership.participant_id.in_(removed))).tuples().all())
    lost_members = Counter(g for g in membership.values() if g is not None)
    sizes = {gid: size - lost_members.get(gid, 0) for gid, size in db.session.execute(
        sa.select(SnapshotGroup.group_id, SnapshotGroup.size).where(
            SnapshotGroup.snapshot_id == snapshot.id)).tuples()}
    lost: dict[tuple[int, int | None], list[int]] = defaultdict(lambda: [0, 0, 0])
    for participant_id, proposal_id, value in db.session.execute(
            sa.select(Vote.participant_id, Vote.proposal_id, Vote.value).where(
                Vote.round_id == snapshot.round_id, Vote.participant_id.in_(removed),
                Vote.proposal_id.in_(proposal_ids))):
        slot = {1: 0, -1: 1, 0: 2}[value]
        lost[(proposal_id, None)][slot] += 1
        group = membership.get(participant_id)
        if group is not None:
            lost[(proposal_id, group)][slot] += 1
    per_group: dict[int, list[threshold.GroupCounts]] = defaultdict(list)
    overall: dict[int, tuple[int, int]] = {}
    for pid, gid, agree, disagree, passes in db.session.execute(
            sa.select(SnapshotProposalStat.proposal_id, SnapshotProposalStat.group_id,
                      SnapshotProposalStat.agree, SnapshotProposalStat.disagree,
                      SnapshotProposalStat.passes).where(
                SnapshotProposalStat.snapshot_id == snapshot.id,
                SnapshotProposalStat.proposal_id.in_(proposal_ids))):
        la, ld, lp = lost.get((pid, gid), (0, 0, 0))
        agree, disagree, passes = max(agree - la, 0), max(disagree - ld, 0), max(passes - lp, 0)
        if gid is None:
            overall[pid] = (agree + disagree + passes, agree)
        else:
            per_group[pid].append(threshold.GroupCounts(gid, max(sizes.get(gid, 0), 0), agree,
                                                        disagree, passes))
    return {pid: threshold.evaluate(policy, per_group.get(pid, []),
                                    total_votes=overall.get(pid, (0, 0))[0],
                                    total_agrees=overall.get(pid, (0, 0))[1])
            for pid in proposal_ids}


# What a review screens: a coordinated block of accounts, or the paper votes that staff
# typed in for assisted participants (one person's typing must not decide alone either).
COORDINATED, ASSISTED = "coordinated", "assisted"
# Both together: a review's evidence then has source ASSISTED and "joint" true.
JOINT = "joint"


def assisted_participants(round_id: int) -> set[int]:
    return set(db.session.scalars(sa.select(Participant.id).where(
        Participant.round_id == round_id, Participant.source == "assisted")))


def assisted_typists(round_id: int) -> set[int]:
    """The accounts that typed in paper votes in the round (from the audit log)."""
    return set(db.session.scalars(sa.select(AuditEntry.actor_id).where(
        AuditEntry.round_id == round_id, AuditEntry.action == "vote.assisted",
        AuditEntry.actor_id.is_not(None))))


def screened_out(evidence: dict[str, Any] | None, snapshot: ClusterSnapshot,
                 round_id: int) -> set[int]:
    """The participants a review's evidence is about, on ``snapshot``."""
    if (evidence or {}).get("joint"):
        return assisted_participants(round_id) | flagged_participants(snapshot)
    if (evidence or {}).get("source") == ASSISTED:
        return assisted_participants(round_id)
    return flagged_participants(snapshot)


def _blocks(snapshot: ClusterSnapshot) -> list[dict[str, Any]]:
    """The snapshot's flagged blocks as evidence shows them: without who was in them."""
    return [{k: v for k, v in block.items() if k != "participant_ids"}
            for block in (snapshot.statistics or {}).get(STATISTICS_KEY, [])]


def _evidence(snapshot: ClusterSnapshot, with_blocks: threshold.Decision,
              without: threshold.Decision, decisive: bool, source: str) -> dict[str, Any]:
    return {"source": source, "blocks": _blocks(snapshot) if source == COORDINATED else [],
            "decisive": decisive, "snapshot_id": snapshot.id,
            # what the screened votes did: carried the proposal over the rule, or kept it below
            "effect": "pushed" if with_blocks.escalate else "blocked",
            "assisted_votes": (with_blocks.total_votes - without.total_votes
                               if source == ASSISTED else None),
            "with_blocks": {"escalate": with_blocks.escalate,
                            "total_votes": with_blocks.total_votes,
                            "support": with_blocks.support},
            "without_blocks": {"escalate": without.escalate, "reasons": without.reasons,
                               "total_votes": without.total_votes,
                               "support": without.support}}


def screen(snapshot: ClusterSnapshot, round_: Round,
           decisions: dict[int, threshold.Decision]) -> tuple[set[int], dict[int, dict[str, Any]]]:
    """Which proposals' outcome a coordinated block or staff-typed paper votes decided, in
    either direction, so that they wait for a review (creating or keeping their reviews),
    and the coordination evidence for the passing proposals the blocks did not decide.

    ``decisions``: the rule's decisions on the snapshot for the proposals not yet on the
    agenda. Such votes decide a proposal when removing them flips the decision: they
    carried a proposal over the rule, or kept one below that would pass without them (a
    few accounts joining an opinion group can pull that group below the rule and so veto
    what everybody else agrees with). Does not commit."""
    held, affected, notes = _screened_outcome(snapshot, round_.id, round_.policy, decisions)
    if not affected:
        return set(), notes
    reviews = {r.proposal_id: r for r in db.session.scalars(
        sa.select(EscalationReview).where(EscalationReview.proposal_id.in_(list(decisions))))}
    for pid, (source, evidence) in held.items():
        review = reviews.get(pid)
        if review is None:
            review = EscalationReview(proposal_id=pid, round_id=round_.id,
                                      snapshot_id=snapshot.id, evidence=evidence)
            db.session.add(review)
            db.session.flush()
            reviews[pid] = review
            audit.record("escalation.held_for_review", actor=None, target=review,
                         round_id=round_.id, proposal_id=pid, source=source,
                         effect=evidence["effect"],
                         block_sizes=[b["size"] for b in evidence["blocks"]])
        elif review.status == "pending":
            review.snapshot_id, review.evidence = snapshot.id, evidence
    for pid in affected - set(held):  # nothing decides it any more: the old review is moot
        review = reviews.get(pid)
        if review is not None and review.status in ("pending", "dismissed"):
            review.status = "superseded"
    return set(held), notes


def would_hold(snapshot: ClusterSnapshot, round_id: int, policy: dict[str, Any],
               decisions: dict[int, threshold.Decision]) -> set[int]:
    """The proposals ``screen`` would hold for a review under ``policy`` (``decisions``:
    the rule's decisions under it), without creating or changing any review."""
    return set(_screened_outcome(snapshot, round_id, policy, decisions)[0])


def _screened_outcome(snapshot: ClusterSnapshot, round_id: int, policy: dict[str, Any],
                      decisions: dict[int, threshold.Decision]
                      ) -> tuple[dict[int, tuple[str, dict[str, Any]]], set[int],
                                 dict[int, dict[str, Any]]]:
    """What ``screen`` decides, nothing written: the held proposals with the source and
    evidence of their review, the proposals the screened votes touch at all, and the
    evidence notes of those they do not decide."""
    # Paper votes first: when they decide, the review is one their typist may not answer.
    checks = [(source, removed) for source, removed in (
        (ASSISTED, assisted_participants(round_id) if decisions else set()),
        (COORDINATED, flagged_participants(snapshot))) if removed]
    if len(checks) == 2:
        # Paper votes and a block that each carry (or keep down) a proposal on their own
        # hide each other: removing one alone changes nothing. Together they decide it.
        checks.append((JOINT, checks[0][1] | checks[1][1]))
    held: dict[int, tuple[str, dict[str, Any]]] = {}
    affected: set[int] = set()
    notes: dict[int, dict[str, Any]] = {}
    if not checks or not decisions:
        return held, affected, notes
    withouts: dict[str, dict[int, threshold.Decision]] = {}
    for source, removed in checks:
        without = withouts[source] = decisions_without(snapshot, policy, sorted(decisions),
                                                       removed)
        for pid, decision in decisions.items():
            if pid in held or not (decision.escalate or without[pid].escalate):
                continue
            affected.add(pid)
            decisive = decision.escalate != without[pid].escalate
            if source == JOINT:
                if not decisive:
                    continue
                evidence = {
                    **_evidence(snapshot, decision, without[pid], decisive, ASSISTED),
                    "joint": True,
                    "blocks": _blocks(snapshot),
                    "assisted_votes": decision.total_votes - withouts[ASSISTED][pid].total_votes}
            else:
                evidence = _evidence(snapshot, decision, without[pid], decisive, source)
            if not decisive:
                if source == COORDINATED:
                    notes[pid] = evidence
                continue
            held[pid] = (source, evidence)
            notes.pop(pid, None)
    return held, affected, notes


def pending_reviews(round_id: int) -> list[EscalationReview]:
    return list(db.session.scalars(
        sa.select(EscalationReview).where(EscalationReview.round_id == round_id,
                                          EscalationReview.status == "pending")
        .order_by(EscalationReview.created_at)))
