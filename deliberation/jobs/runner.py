"""The clustering runner: recomputes snapshots of rounds that asked for one, outside requests.

A vote or a moderation change sets ``Round.snapshot_requested_at`` (same transaction). The
runner picks such rounds whose last run started at least ``min_interval`` seconds ago,
claims each one with a lease stored on the round (``cluster_lease_owner`` /
``cluster_lease_until``), computes the snapshot with ``refresh`` (by default
``deliberation.engine.snapshots.refresh_round``, which writes the snapshot in one transaction and
clears the request) and releases the lease.

Claiming is a compare-and-set ``UPDATE ... WHERE lease is free``: on SQLite the database
lock serialises writers; on PostgreSQL the candidates are first selected with
``FOR NO KEY UPDATE SKIP LOCKED`` so concurrent workers skip each other's rows instead of waiting,
and the conditional UPDATE is re-checked by PostgreSQL under READ COMMITTED. Either way
exactly one worker wins a round. A worker that dies keeps its lease until
``cluster_lease_until`` passes; then any worker picks the round up again.

The same loop runs as a daemon thread in the web process (``CLUSTER_RUNNER=thread``, the
default for ``make run``) or as its own process (``flask worker``).
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from deliberation.database import db
from deliberation.models import Round
from deliberation.models._common import utcnow

log = logging.getLogger(__name__)

DEFAULT_MIN_INTERVAL = 3.0
DEFAULT_LEASE_SECONDS = 300.0
DEFAULT_POLL_SECONDS = 0.5
DEFAULT_SNAPSHOT_HISTORY = 10  # snapshots kept per round (deliberation.engine.snapshots)
DEFAULT_THREADS = 1  # BLAS/OpenMP threads of one clustering run (see refresh_round)
BATCH = 10

Refresh = Callable[[int], Any]


def default_refresh(round_id: int, *, threads: int | None = DEFAULT_THREADS) -> Any:
    """The real refresh: compute and store a snapshot, then run the threshold engine."""
    from deliberation.engine.snapshots import refresh_round

    return refresh_round(round_id, seed=0, threads=threads)


def new_owner() -> str:
    """A lease owner id unique to this worker (host, process, random part)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _due(now: datetime, min_interval: float) -> sa.ColumnElement[bool]:
    cutoff = now - timedelta(seconds=min_interval)
    return sa.or_(
        sa.and_(
            Round.snapshot_requested_at.is_not(None),
            Round.cluster_lease_until.is_(None),
            sa.or_(Round.cluster_last_run_at.is_(None), Round.cluster_last_run_at <= cutoff),
        ),
        # A worker died while computing (its lease ran out): the run is redone.
        Round.cluster_lease_until < now,
    )


def claim_due_rounds(
    *, owner: str, now: datetime, min_interval: float, lease_seconds: float, limit: int = BATCH
) -> list[int]:
    """Claim up to ``limit`` due rounds for ``owner``; returns the ids won (committed)."""
    query = (
        sa.select(Round.id)
        .where(_due(now, min_interval))
        .order_by(Round.snapshot_requested_at, Round.id)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        # FOR NO KEY UPDATE, not FOR UPDATE: every open vote transaction holds a KEY SHARE
        # lock on its round (the foreign keys of votes and vote_events), which FOR UPDATE
        # conflicts with. Under steady voting SKIP LOCKED would then skip the round on
        # almost every pass and starve it of snapshots.
        query = query.with_for_update(skip_locked=True, key_share=True, of=Round)
    try:
        candidates = list(db.session.scalars(query))
        won = []
        for round_id in candidates:
            result = db.session.execute(
                sa.update(Round)
                .where(Round.id == round_id, _due(now, min_interval))
                .values(
                    cluster_lease_owner=owner,
                    cluster_lease_until=now + timedelta(seconds=lease_seconds),
                    cluster_last_run_at=now,
                    # Taken over by this run: a vote or moderation change from now on
                    # marks the round again, so nothing is lost while we compute.
                    snapshot_requested_at=None,
                    updated_at=Round.updated_at,  # bookkeeping is not an edit of the round
                ),
                execution_options={"synchronize_session": False},
            )
            if result.rowcount == 1:
                won.append(round_id)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return won


def release(round_id: int, owner: str, *, again_at: datetime | None = None) -> None:
    """Give a round's lease back (only if ``owner`` still holds it).

    ``again_at``: mark the round as needing a snapshot again (the run failed, or votes
    arrived that it did not see), unless a newer request is already there.
    """
    values: dict[str, Any] = {"cluster_lease_owner": None, "cluster_lease_until": None,
                              "updated_at": Round.updated_at}
    if again_at is not None:
        values["snapshot_requested_at"] = sa.func.coalesce(Round.snapshot_requested_at,
                                                           again_at)
    try:
        db.session.execute(
            sa.update(Round)
            .where(Round.id == round_id, Round.cluster_lease_owner == owner)
            .values(values),
            execution_options={"synchronize_session": False},
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("could not release the clustering lease of round %s", round_id)


def run_once(
    *,
    min_interval: float = DEFAULT_MIN_INTERVAL,
    now: datetime | None = None,
    refresh: Refresh | None = None,
    owner: str | None = None,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    limit: int = BATCH,
    snapshot_history: int = DEFAULT_SNAPSHOT_HISTORY,
    threads: int | None = DEFAULT_THREADS,
) -> list[int]:
    """Refresh every due round this worker can claim; returns the ids refreshed.

    A refresh that raises is logged and rolled back; the round keeps its request flag and
    its previous snapshot and is retried after ``min_interval`` seconds. After a refresh,
    the round's snapshots beyond the newest ``snapshot_history`` are deleted (while this
    worker still holds the round's lease). ``threads`` caps the threads of the default
    refresh's computation.
    Needs an app context.
    """
    refresh = refresh or functools.partial(default_refresh, threads=threads)
    owner = owner or new_owner()
    now = now or utcnow()
    pass_began = time.monotonic()
    refreshed: list[int] = []
    mark_rounds_with_unseen_votes(now)
    for round_id in claim_due_rounds(owner=owner, now=now, min_interval=min_interval,
                                     lease_seconds=lease_seconds, limit=limit):
        again_at: datetime | None = now
        started = time.monotonic()
        try:
            result = refresh(round_id)
        except Exception:
            db.session.rollback()
            log.exception("clustering refresh failed for round %s; will retry", round_id)
        else:
            if result is None:  # nothing to cluster yet (no votes): logged by refresh
                refreshed.append(round_id)
                again_at = None
            elif getattr(result, "status", "ok") == "failed":
                log.error("clustering refresh failed for round %s (%s); will retry",
                          round_id, getattr(result, "error", ""))
            else:
                refreshed.append(round_id)
                again_at = _unseen_votes_since(round_id, result, now)
                log.info("round %s refreshed in %.2f s (started %.2f s after the pass began)",
                         round_id, time.monotonic() - started, started - pass_began)
                _prune(round_id, snapshot_history)
        finally:
            release(round_id, owner, again_at=again_at)
    return refreshed


def _prune(round_id: int, keep: int) -> None:
    """Bound the round's snapshot history; a failure is logged, not raised (the new
    snapshot is already stored, and the next refresh prunes again)."""
    from deliberation.engine.snapshots import prune_snapshots

    try:
        pruned = prune_snapshots(round_id, keep)
    except Exception:
        db.session.rollback()
        log.exception("could not prune old snapshots of round %s", round_id)
    else:
        if pruned:
            log.debug("round %s: %d old snapshots deleted", round_id, pruned)


def mark_rounds_with_unseen_votes(now: datetime) -> int:
    """Mark open rounds whose votes are newer than their latest "ok" snapshot.

    A safety net for the one race the flag cannot close: a vote that read the round's
    flag as set just before a runner took it over, and committed after the runner's
    check. Returns the number of rounds marked.
    """
    from deliberation.models import ClusterSnapshot, VoteEvent

    seen = (
        sa.select(sa.func.coalesce(sa.func.max(ClusterSnapshot.last_vote_event_id), 0))
        .where(ClusterSnapshot.round_id == Round.id, ClusterSnapshot.status == "ok")
        .scalar_subquery()
    )
    unseen = sa.exists().where(VoteEvent.round_id == Round.id, VoteEvent.id > seen)
    try:
        result = db.session.execute(
            sa.update(Round)
            .where(Round.snapshot_requested_at.is_(None), Round.cluster_lease_until.is_(None),
                   Round.phase.in_(("collecting", "voting", "reflection")), unseen)
            .values(snapshot_requested_at=now, updated_at=Round.updated_at),
            execution_options={"synchronize_session": False},
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return result.rowcount or 0


def _unseen_votes_since(round_id: int, snapshot: Any, now: datetime) -> datetime | None:
    """``now`` if the round has vote events the snapshot did not see, else None."""
    seen = getattr(snapshot, "last_vote_event_id", None)
    if not isinstance(seen, int):
        return None
    from deliberation.models import VoteEvent

    try:
        newer = db.session.scalar(sa.select(VoteEvent.id).where(
            VoteEvent.round_id == round_id, VoteEvent.id > seen).limit(1))
        db.session.rollback()
    except Exception:
        db.session.rollback()
        log.exception("could not check round %s for unseen votes", round_id)
        return now
    return now if newer is not None else None


def run_forever(
    stop_event: threading.Event,
    app: Any,
    *,
    refresh: Refresh | None = None,
    poll: float | None = None,
) -> None:
    """Run ``run_once`` until ``stop_event`` is set; each pass in its own app context."""
    config = app.config
    min_interval = float(config.get("CLUSTER_MIN_INTERVAL", DEFAULT_MIN_INTERVAL))
    lease_seconds = float(config.get("CLUSTER_LEASE_SECONDS", DEFAULT_LEASE_SECONDS))
    poll = float(config.get("CLUSTER_POLL_SECONDS", DEFAULT_POLL_SECONDS)) if poll is None \
        else poll
    history = int(config.get("CLUSTER_SNAPSHOT_HISTORY", DEFAULT_SNAPSHOT_HISTORY))
    threads = int(config.get("CLUSTER_THREADS", DEFAULT_THREADS)) or None
    owner = new_owner()
    log.info("clustering runner %s started (min interval %ss)", owner, min_interval)
    failures = 0
    while not stop_event.is_set():
        try:
            with app.app_context():
                try:
                    run_once(min_interval=min_interval, refresh=refresh, owner=owner,
                             lease_seconds=lease_seconds, snapshot_history=history,
                             threads=threads)
                finally:
                    db.session.remove()
            failures = 0
        except Exception:  # e.g. the database is down: wait and try again
            failures += 1
            log.exception("clustering runner pass failed (%d in a row)", failures)
        stop_event.wait(poll if failures == 0 else min(30.0, poll * 2 ** min(failures, 6)))
    log.info("clustering runner %s stopped", owner)


def start_thread(app: Any, *, refresh: Refresh | None = None) -> tuple[threading.Thread,
                                                                          threading.Event]:
    """Start the runner as a daemon thread of this process."""
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(stop, app), kwargs={"refresh": refresh},
                              name="hiroba-cluster-runner", daemon=True)
    thread.start()
    return thread, stop
