"""Cluster snapshots: run the clustering library on a round's votes and store the result.

``refresh_round`` reads the round's current votes, runs ``clustering.analyze`` (warm
started from the previous snapshot) and writes the snapshot, its groups, memberships and
per-group proposal counts in one transaction. A failed run writes a "failed" snapshot row
with the error and leaves the previous "ok" snapshot as the latest. What follows a new
snapshot (escalation, pruning the history) is the runner's job (deliberation/jobs/runner.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np
import sqlalchemy as sa
from threadpoolctl import threadpool_limits

from deliberation import small_counts
from deliberation.bulk import insert_columns, without_reference_triggers
from deliberation.database import db
from deliberation.engine import coordination
from deliberation.errors import N_, NotFound
from deliberation.models import (
    ClusterSnapshot,
    Participant,
    Proposal,
    Round,
    SnapshotGroup,
    SnapshotMembership,
    SnapshotProposalStat,
    Vote,
    VoteEvent,
)
from deliberation.models._common import utcnow
from deliberation.models.snapshot import newest_ok_snapshot

log = logging.getLogger(__name__)

# Proposals zeroed for the projection and left out of repness/consensus.
EXCLUDED_STATUSES = ("pending", "rejected", "hidden")


class DegenerateData(ValueError):
    """Nothing to cluster (e.g. no votes)."""


class VotesSource(Protocol):
    """Where ``refresh_round`` gets a round's current votes (the runner's in-memory
    ``deliberation.jobs.vote_cache.VoteCache``); without one, ``current_votes``."""

    def current(self, round_id: int) -> VoteArrays: ...

    def first_votes(self, round_id: int) -> Mapping[int, float] | None:
        """Account participants' first vote times as of ``current`` (None: read them)."""

    def switches(self, round_id: int) -> Mapping[tuple[int, int], tuple[int, float]] | None:
        """The answers changed as of ``current`` (None: read them)."""


VoteArrays = tuple[np.ndarray, np.ndarray, np.ndarray]  # participant id, proposal id, value


def current_votes(round_id: int) -> VoteArrays:
    """The round's current votes (the ``votes`` table), read in one query as three arrays.

    One row per participant, their votes in one string ("proposal,value,proposal,value,..."
    with the number of votes beside it), not one row per vote: at a million votes the
    driver's objects for each row cost more than the database's own work, and the strings
    become arrays in one NumPy call (figures in bench/README.md).
    """
    table = Vote.__table__
    text = sa.func.aggregate_strings(
        sa.cast(table.c.proposal_id, sa.String) + "," + sa.cast(table.c.value, sa.String), ",")
    rows = db.session.execute(
        sa.select(table.c.participant_id, sa.func.count(), text)
        .where(table.c.round_id == round_id).group_by(table.c.participant_id)).all()
    participants = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    counts = np.fromiter((row[1] for row in rows), dtype=np.int64, count=len(rows))
    total = int(counts.sum())
    pairs = (np.fromstring(",".join(row[2] for row in rows), dtype=np.int64, sep=",",
                           count=2 * total) if total else np.empty(0, dtype=np.int64))
    pairs = pairs.reshape(-1, 2)
    return np.repeat(participants, counts), pairs[:, 0], pairs[:, 1].astype(np.int8)


def _held_back(round_: Round, before: Any, last_event: int | None
               ) -> tuple[list[int], str | None]:
    """The participants whose votes since the previous snapshot this run leaves out, and
    since when the counts then stand (ISO time; None when this run counts every vote).

    When fewer than the small-count minimum of people voted since the previous snapshot,
    a snapshot with their new votes would move the public counts by exactly their ballots,
    for whoever knows when they voted: such a run (asked for by moderation, a phase
    change...) counts those people's votes as they stood at the previous snapshot. The
    runner does not start a run for such votes alone (``deliberation.jobs.runner``).
    Once the round takes no more votes nothing is held back: its final results, and what
    they send to the council, count every vote, the last few voters' too."""
    if not round_.accepts_votes:
        return [], None
    seen = (before.last_vote_event_id if before is not None else None) or 0
    if last_event is None or last_event <= seen:
        return [], None
    minimum = small_counts.minimum(round_.min_group_display)
    newcomers = list(db.session.scalars(
        sa.select(VoteEvent.participant_id)
        .where(VoteEvent.round_id == round_.id, VoteEvent.id > seen,
               VoteEvent.id <= last_event)
        .distinct().limit(minimum)))
    if len(newcomers) >= minimum:
        return [], None
    if before is None:
        return newcomers, None
    stood = (before.manifest or {}).get("counts_as_of") or before.created_at.isoformat()
    return newcomers, stood


def _as_of(arrays: VoteArrays, round_id: int, participants: list[int], event_id: int
           ) -> VoteArrays:
    """``arrays`` with the votes of ``participants`` as they stood after event
    ``event_id`` (their last event on each proposal up to it)."""
    participant, proposal, value = arrays
    keep = ~np.isin(participant, participants)
    stood: dict[tuple[int, int], int] = {}
    for pid, qid, v in db.session.execute(
            sa.select(VoteEvent.participant_id, VoteEvent.proposal_id, VoteEvent.value)
            .where(VoteEvent.round_id == round_id, VoteEvent.participant_id.in_(participants),
                   VoteEvent.id <= event_id)
            .order_by(VoteEvent.id)):
        stood[(pid, qid)] = v
    pairs = list(stood.items())
    return (np.concatenate([participant[keep],
                            np.fromiter((k[0] for k, _ in pairs), np.int64, len(pairs))]),
            np.concatenate([proposal[keep],
                            np.fromiter((k[1] for k, _ in pairs), np.int64, len(pairs))]),
            np.concatenate([value[keep],
                            np.fromiter((v for _, v in pairs), np.int8, len(pairs))]))


def _vote_input(round_id: int, votes: VotesSource | None = None, *,
                held: list[int] | None = None, as_of: int = 0
                ) -> tuple[Any, int, VoteArrays]:
    """VoteData for the round, the number of votes and the votes as arrays (those of the
    ``held`` participants as they stood after event ``as_of``)."""
    from clustering import VoteData

    arrays = votes.current(round_id) if votes is not None else current_votes(round_id)
    if held:
        arrays = _as_of(arrays, round_id, held, as_of)
    participant, proposal, value = arrays
    proposals = db.session.execute(
        sa.select(Proposal.id, Proposal.status, Proposal.is_meta).where(
            Proposal.round_id == round_id)
    ).all()
    if not len(value):
        raise DegenerateData("no votes to cluster")
    meta = [p.id for p in proposals if p.is_meta]
    excluded = [p.id for p in proposals if p.status in EXCLUDED_STATUSES or p.is_meta]
    data = VoteData.from_arrays(
        participant, proposal, value,
        statement_ids=[p.id for p in proposals],
        excluded_ids=excluded, meta_ids=meta,
    )
    return data, len(value), arrays


def _statistics(analysis: Any) -> dict[str, Any]:
    """The JSON part of a snapshot, keyed by proposal id as a string."""
    def rep(r: Any) -> dict[str, Any]:
        d = r.to_dict() if hasattr(r, "to_dict") else dict(r.__dict__)
        out = {}
        for key, value in d.items():
            if isinstance(value, (np.integer, np.floating, np.bool_)):
                value = value.item()
            out[key] = value
        out["proposal_id"] = int(out.get("tid", 0))
        return out

    return {
        "repness": {str(g): [rep(r) for r in rows] for g, rows in analysis.repness.items()},
        "consensus": {key: [{"proposal_id": int(c.tid), "p_success": float(c.p_success),
                             "p_test": float(c.p_test)} for c in analysis.consensus.get(key, [])]
                      for key in ("agree", "disagree")},
        "group_aware_consensus": {str(t): float(v)
                                  for t, v in analysis.group_aware_consensus.items()},
        "group_aware_consensus_disagree": {
            str(t): float(v) for t, v in analysis.group_aware_consensus_disagree.items()},
        "priorities": {str(t): float(v) for t, v in analysis.priorities.items()},
        "extremity": {str(int(t)): float(e) for t, e in
                      zip(analysis.statement_ids, analysis.extremity, strict=True)},
        # the cluster-free lens, and where the group rule holds for other groupings
        "bridging": analysis.bridging.to_json_dict(),
        "robustness": {"groupings": analysis.robustness.groupings,
                       "holds": {str(t): names for t, names in
                                 analysis.robustness.holds_any.items()}},
    }


def _group_rule(round_: Round) -> dict[str, Any] | None:
    """The round's group rule for the robustness figures (defaults if the policy is invalid:
    the escalation engine reports that)."""
    from deliberation.engine.threshold import PolicyError, normalise_policy

    try:
        return normalise_policy(round_.policy)
    except PolicyError:
        return None


def refresh_round(round_id: int, *, seed: int = 0, threads: int | None = None,
                  votes: VotesSource | None = None) -> ClusterSnapshot | None:
    """Compute and store the round's snapshot now (synchronously); commits. None when nobody
    has voted yet.

    ``threads`` caps the BLAS and OpenMP threads of the computation (None: the libraries'
    defaults, one per core). The runner passes 1 by default (CLUSTER_THREADS): it shares the
    machine with the web processes, and idle BLAS threads spin on the cores they wait on.
    ``votes``: where the current votes come from (the runner's cache); the same votes give
    the same snapshot whichever source read them.
    """
    from clustering import WarmStart, analyze

    round_ = db.session.get(Round, round_id)
    if round_ is None:
        raise NotFound(N_("No such round."))
    method, max_groups = round_.clustering_method, round_.max_groups
    last_event = db.session.scalar(
        sa.select(sa.func.max(VoteEvent.id)).where(VoteEvent.round_id == round_id))
    # Only the previous run's warm-start state and what it saw, not its whole row (its
    # statistics are large JSON that this run would decode for nothing).
    before = db.session.execute(newest_ok_snapshot(
        ClusterSnapshot.warm_start, ClusterSnapshot.last_vote_event_id,
        ClusterSnapshot.created_at, ClusterSnapshot.manifest, round_id=round_id)).first()
    previous = before.warm_start if before is not None else None
    held, counts_as_of = _held_back(round_, before, last_event)
    if held:
        last_event = before.last_vote_event_id if before is not None else None
    started = time.perf_counter()
    try:
        data, n_votes, arrays = _vote_input(round_id, votes, held=held,
                                            as_of=last_event or 0)
        warm = WarmStart.from_dict(previous) if previous else None
        with threadpool_limits(limits=threads):
            analysis = analyze(data, method=method, seed=seed, max_groups=max_groups,
                               warm_start=warm, rule=_group_rule(round_))
            blocks = coordination.blocks_for_round(
                round_id, arrays,
                first_votes=votes.first_votes(round_id) if votes is not None else None,
                switches=votes.switches(round_id) if votes is not None else None)
    except DegenerateData:
        # A round nobody has voted in yet is a normal state, not a failure: no snapshot.
        db.session.rollback()
        log.info("round %s has no votes yet: nothing to cluster", round_id)
        return None
    except Exception as error:  # any failure becomes a "failed" snapshot
        db.session.rollback()
        log.exception("clustering failed for round %s", round_id)
        snapshot = ClusterSnapshot(
            round_id=round_id, status="failed", method=method,
            error=f"{type(error).__name__}: {error}", last_vote_event_id=last_event,
            duration_ms=int((time.perf_counter() - started) * 1000),
        )
        db.session.add(snapshot)
        db.session.commit()
        return snapshot

    snapshot = _write(round_id, analysis, blocks, method=method, n_votes=n_votes,
                      last_event=last_event, counts_as_of=counts_as_of,
                      duration_ms=int((time.perf_counter() - started) * 1000))
    db.session.commit()
    return snapshot


def _write(round_id: int, analysis: Any, blocks: list[dict[str, Any]], *, method: str,
           n_votes: int, last_event: int | None, duration_ms: int,
           counts_as_of: str | None = None) -> ClusterSnapshot:
    """The snapshot row, then its groups, memberships and proposal counts column by column
    (``insert_columns``: COPY on PostgreSQL, one prepared INSERT in batches elsewhere).

    The child rows refer to the snapshot row written just before them in this transaction,
    and to the round's participants and proposals. On PostgreSQL, where the role may, they
    skip the per-row foreign-key triggers (most of the database's work on such rows: one
    trigger call per reference), and one query per table then does what those triggers
    do, for all rows at once (``_check_references``).
    """
    labels = np.asarray(analysis.labels)
    proj = np.asarray(analysis.projection, dtype=np.float64)
    manifest = dict(analysis.manifest)
    if counts_as_of is not None:
        manifest["counts_as_of"] = counts_as_of
    snapshot = ClusterSnapshot(
        round_id=round_id, status="ok", method=method, k=int(analysis.k),
        n_participants=len(analysis.participant_ids),
        n_clustered=int((labels >= 0).sum()), n_votes=n_votes,
        input_hash=str(manifest.get("input_sha256", "")).removeprefix("sha256:")[:64],
        last_vote_event_id=last_event, manifest=manifest,
        statistics={**_statistics(analysis), coordination.STATISTICS_KEY: blocks},
        warm_start=analysis.warm_start.to_dict(),
        duration_ms=duration_ms, created_at=utcnow(),
    )
    db.session.add(snapshot)
    db.session.flush()
    sid = snapshot.id

    with without_reference_triggers() as unchecked:
        n, m = _write_rows(sid, analysis, labels, proj)
    if unchecked:
        _check_references(sid, {SnapshotMembership: n, SnapshotProposalStat: m})
    return snapshot


def _write_rows(sid: int, analysis: Any, labels: np.ndarray, proj: np.ndarray
                ) -> tuple[int, int]:
    """The snapshot's groups, memberships and proposal counts; returns the number of
    participants and of proposals they cover."""
    group_ids = np.asarray(analysis.group_ids, dtype=np.int64)
    k = len(group_ids)
    if k:
        centres = np.zeros((k, 2))
        for gi, gid in enumerate(group_ids.tolist()):
            mask = labels == gid
            if mask.any():
                centres[gi] = proj[mask].mean(axis=0)
        insert_columns(SnapshotGroup.__table__, {
            "snapshot_id": sid, "group_id": group_ids,
            "size": np.asarray(analysis.group_sizes, dtype=np.int64),
            "center_x": centres[:, 0], "center_y": centres[:, 1]}, k)

    n = len(labels)
    if n:
        insert_columns(SnapshotMembership.__table__, {
            "snapshot_id": sid,
            "participant_id": np.asarray(analysis.participant_ids, dtype=np.int64),
            "x": proj[:, 0], "y": proj[:, 1],
            # NULL for participants in no group
            "group_id": np.ma.masked_less(labels.astype(np.int64), 0)}, n)

    tids = np.asarray(analysis.statement_ids, dtype=np.int64)
    m = len(tids)
    if m:
        gc, oc = analysis.group_counts, analysis.overall_counts
        # one block of m rows per group, then the overall counts (group_id NULL)
        agree = np.concatenate([np.asarray(gc.agree).reshape(k, m).ravel(), oc.agree])
        disagree = np.concatenate([np.asarray(gc.disagree).reshape(k, m).ravel(),
                                   oc.disagree])
        seen = np.concatenate([np.asarray(gc.seen).reshape(k, m).ravel(), oc.seen])
        group = np.ma.masked_array(
            np.concatenate([np.repeat(group_ids, m), np.zeros(m, dtype=np.int64)]),
            mask=np.arange((k + 1) * m) >= k * m)
        insert_columns(SnapshotProposalStat.__table__, {
            "snapshot_id": sid, "proposal_id": np.tile(tids, k + 1), "group_id": group,
            "agree": agree.astype(np.int64), "disagree": disagree.astype(np.int64),
            "passes": (seen - agree - disagree).astype(np.int64)}, (k + 1) * m)
    return n, m


# The parent each kind of child row refers to besides its snapshot, and through which column.
_REFERENCES = {SnapshotMembership: (SnapshotMembership.participant_id, Participant),
               SnapshotProposalStat: (SnapshotProposalStat.proposal_id, Proposal)}


def _check_references(snapshot_id: int, expected: dict[type, int]) -> None:
    """What the skipped foreign-key triggers would have done, one query per table: lock
    each participant or proposal the snapshot's rows refer to against deletion until the
    commit (``FOR KEY SHARE``, the lock those triggers take row by row), and raise
    ``RuntimeError`` unless every one of the ``expected`` distinct parents exists.

    (The snapshot's own row was written in this transaction: no other can delete it.)"""
    for child, (column, parent) in _REFERENCES.items():
        referenced = sa.select(column).where(child.snapshot_id == snapshot_id)
        locked = (sa.select(parent.id).where(parent.id.in_(referenced))
                  .with_for_update(read=True, key_share=True)).subquery()
        found = db.session.scalar(sa.select(sa.func.count()).select_from(locked))
        if found != expected[child]:
            raise RuntimeError(f"{child.__tablename__}: {expected[child] - found} of "
                               f"{expected[child]} referenced rows of snapshot {snapshot_id} "
                               f"do not exist")
