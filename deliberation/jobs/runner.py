"""The clustering runner: recomputes the snapshots of rounds that need one, outside requests.

The queue is the ``clustering_jobs`` table, one row per round (the runner adds missing
rows each pass). A round is due when it has vote events its newest "ok" snapshot did not
see, or when a change that is not a vote set ``requested_at``, and its last run started
at least ``min_interval`` seconds ago. Deriving "due" from the vote events keeps the vote
itself free of any write for the runner, and leaves no mark to lose: a vote that lands
while a snapshot is computed is newer than what that snapshot saw, so the round is due
again after the run. (One window remains, as it did with a mark set by the vote: on
PostgreSQL an event whose id was drawn before a run read the newest id, but committed
after that read, counts as seen; the round's next vote or request brings it in.)

A worker claims a due round with a lease on its job row (``lease_owner``,
``lease_until``): a compare-and-set ``UPDATE ... WHERE due``. On SQLite the database lock
serialises writers; on PostgreSQL the candidates are first selected ``FOR UPDATE SKIP
LOCKED``, so concurrent workers skip each other's rows instead of waiting, and PostgreSQL
re-checks the conditional UPDATE under READ COMMITTED. Either way exactly one worker wins a
round. A worker that dies keeps its lease until ``lease_until`` passes; then any worker
picks the round up again.

One run is "compute and store the snapshot, then escalate" (``refresh_and_escalate``),
then the round's snapshot history is pruned while the lease is still held. The same loop
runs as a daemon thread in the web process (``CLUSTER_RUNNER=thread``, the default for
``make run``) or as its own process (``flask worker``).
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

from deliberation.database import db, insert_or_update
from deliberation.models import ClusteringJob, Round
from deliberation.models._common import utcnow
from deliberation.models.snapshot import unseen_votes

log = logging.getLogger(__name__)

DEFAULT_MIN_INTERVAL = 3.0
DEFAULT_LEASE_SECONDS = 300.0
DEFAULT_POLL_SECONDS = 0.5
DEFAULT_SNAPSHOT_HISTORY = 10  # snapshots kept per round (deliberation/jobs/snapshot_history.py)
DEFAULT_THREADS = 1  # BLAS/OpenMP threads of one clustering run (see refresh_round)
BATCH = 10
# A pile of unseen events from fewer people than the small-count minimum makes the round
# due at most this often: such a run holds those people's votes back and so leaves the
# pile unseen; it is there only to find real new voters queued behind it.
PILE_INTERVAL = 60.0

Refresh = Callable[[int], Any]


def refresh_and_escalate(round_id: int, *, seed: int = 0,
                         threads: int | None = DEFAULT_THREADS, votes: Any = None) -> Any:
    """One run: compute and store the round's snapshot, then run the escalation engine on it.

    ``votes``: where the round's current votes come from (the runner passes its
    ``VoteCache``); None reads them all from the database.

    Returns the snapshot ("failed" when the clustering failed; nothing is escalated then),
    or None when nobody has voted yet.
    An invalid threshold policy is logged and escalates nothing; the snapshot stays.
    """
    # Imported on the first run: the computation loads NumPy and scikit-learn, which a web
    # process that merely hosts the runner's thread does not need until then.
    from deliberation.engine import escalation
    from deliberation.engine.snapshots import refresh_round
    from deliberation.engine.threshold import PolicyError

    snapshot = refresh_round(round_id, seed=seed, threads=threads, votes=votes)
    if snapshot is not None and snapshot.status == "ok":
        try:
            escalation.run_for_snapshot(snapshot.id)
        except PolicyError:
            db.session.rollback()
            log.exception("round %s: invalid threshold policy, nothing escalated", round_id)
    return snapshot


def settle_requests(round_id: int, *, made_before: datetime) -> None:
    """Clear the round's snapshot request when it was made before ``made_before`` (the start
    of a run that ``flask cluster run`` did outside the queue), so that the round no longer
    reads as waiting (/healthz, the facilitator's page) for a run it has had; a request made
    since stays for the runner. Commits."""
    try:
        db.session.execute(
            sa.update(ClusteringJob)
            .where(ClusteringJob.round_id == round_id,
                   ClusteringJob.requested_at <= made_before)
            .values(requested_at=None),
            execution_options={"synchronize_session": False},
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def new_owner() -> str:
    """A lease owner id unique to this worker (host, process, random part)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def due(now: datetime, min_interval: float) -> sa.ColumnElement[bool]:
    """The condition a round's job meets when a worker should run it: not leased, not run
    within ``min_interval`` seconds, and asked for or with votes its snapshot has not seen
    (a pile of events from too few people only if not run within ``PILE_INTERVAL``); or
    leased by a worker whose lease ran out."""
    cutoff = now - timedelta(seconds=min_interval)
    return sa.or_(
        sa.and_(
            ClusteringJob.lease_until.is_(None),
            sa.or_(ClusteringJob.last_run_at.is_(None), ClusteringJob.last_run_at <= cutoff),
            sa.or_(ClusteringJob.requested_at.is_not(None),
                   unseen_votes(ClusteringJob.round_id, now, pile_counts=sa.or_(
                       ClusteringJob.last_run_at.is_(None),
                       ClusteringJob.last_run_at <= now - timedelta(seconds=PILE_INTERVAL)))),
        ),
        # A worker died while computing (its lease ran out): the run is redone.
        ClusteringJob.lease_until < now,
    )


def add_missing_jobs() -> None:
    """Give every round its job row (rounds are created in many places; the queue needs
    a row to lease). Reads first, so that a pass writes nothing when no round is new;
    concurrent workers may race to insert: a duplicate is ignored. Commits."""
    missing = sa.select(Round.id).where(
        ~sa.exists().where(ClusteringJob.round_id == Round.id))
    try:
        if db.session.scalar(missing.limit(1)) is not None:
            db.session.execute(insert_or_update(ClusteringJob)
                               .from_select(["round_id"], missing).on_conflict_do_nothing())
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def claim_due_rounds(
    *, owner: str, now: datetime, min_interval: float, lease_seconds: float, limit: int = BATCH
) -> list[int]:
    """Claim up to ``limit`` due rounds for ``owner``; returns the ids won (committed)."""
    return [round_id for round_id, _ in claim_due_jobs(
        owner=owner, now=now, min_interval=min_interval, lease_seconds=lease_seconds,
        limit=limit)]


def claim_due_jobs(
    *, owner: str, now: datetime, min_interval: float, lease_seconds: float, limit: int = BATCH
) -> list[tuple[int, bool]]:
    """``claim_due_rounds``, with for each round won whether a change that is not a vote
    requested the run (its ``requested_at`` was set when the claim took it over)."""
    add_missing_jobs()
    query = (
        sa.select(ClusteringJob.round_id)
        .where(due(now, min_interval))
        .order_by(ClusteringJob.last_run_at.nulls_first(), ClusteringJob.round_id)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    try:
        candidates = list(db.session.scalars(query))
        won = []
        for round_id in candidates:
            # Two conditional updates, so that whether a request was taken over is known
            # from the statement that cleared it, even if one arrived since the SELECT.
            for requested in (True, False):
                condition = [ClusteringJob.round_id == round_id, due(now, min_interval)]
                if requested:
                    condition.append(ClusteringJob.requested_at.is_not(None))
                result = db.session.execute(
                    sa.update(ClusteringJob).where(*condition)
                    .values(lease_owner=owner,
                            lease_until=now + timedelta(seconds=lease_seconds),
                            last_run_at=now,
                            # Taken over by this run: a later request sets it again.
                            requested_at=None),
                    execution_options={"synchronize_session": False},
                )
                if result.rowcount == 1:
                    won.append((round_id, requested))
                    break
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return won


def release(round_id: int, owner: str, *, again_at: datetime | None = None) -> None:
    """Give a round's lease back (only if ``owner`` still holds it).

    ``again_at``: ask for another run (this one failed), unless a request is already there.
    """
    values: dict[str, Any] = {"lease_owner": None, "lease_until": None}
    if again_at is not None:
        values["requested_at"] = sa.func.coalesce(ClusteringJob.requested_at, again_at)
    try:
        db.session.execute(
            sa.update(ClusteringJob)
            .where(ClusteringJob.round_id == round_id, ClusteringJob.lease_owner == owner)
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

    ``refresh`` defaults to ``refresh_and_escalate``. One that raises or returns a "failed"
    snapshot is logged and rolled back; the round keeps its previous snapshot and is
    retried after ``min_interval`` seconds. After a refresh, the round's snapshots beyond
    the newest ``snapshot_history`` are deleted (while this worker still holds the
    round's lease). ``threads`` caps the threads of the default refresh's computation.
    Needs an app context.
    """
    refresh = refresh or functools.partial(_refresh_with_cache, threads=threads)
    owner = owner or new_owner()
    now = now or utcnow()
    pass_began = time.monotonic()
    refreshed: list[int] = []
    for round_id, requested in claim_due_jobs(owner=owner, now=now,
                                              min_interval=min_interval,
                                              lease_seconds=lease_seconds, limit=limit):
        if requested and _vote_cache is not None:
            # moderation, a policy or phase change, an import: read every vote again
            _vote_cache.forget(round_id)
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
                again_at = None  # votes it did not see keep the round due by themselves
                log.info("round %s refreshed in %.2f s (started %.2f s after the pass began)",
                         round_id, time.monotonic() - started, started - pass_began)
                _prune(round_id, snapshot_history)
        finally:
            release(round_id, owner, again_at=again_at)
    if _vote_cache is not None:
        _vote_cache.evict_idle()
    return refreshed


_vote_cache: Any = None  # this process's VoteCache, made when a round is first claimed
_vote_cache_config: dict[str, Any] = {}


def vote_cache() -> Any:
    """This process's ``deliberation.jobs.vote_cache.VoteCache`` (the rounds' votes kept in
    memory between runs), configured by ``run_forever`` from the app's CLUSTER_CACHE_*.
    Made on first use: it loads NumPy, which a web process hosting an idle runner does not
    need."""
    global _vote_cache
    if _vote_cache is None:
        from deliberation.jobs.vote_cache import from_config

        _vote_cache = from_config(_vote_cache_config)
    return _vote_cache


def _refresh_with_cache(round_id: int, *, threads: int | None) -> Any:
    return refresh_and_escalate(round_id, threads=threads, votes=vote_cache())


def _prune(round_id: int, keep: int) -> None:
    """Bound the round's snapshot history; a failure is logged, not raised (the new
    snapshot is already stored, and the next refresh prunes again)."""
    from deliberation.jobs.snapshot_history import prune_snapshots

    try:
        pruned = prune_snapshots(round_id, keep)
    except Exception:
        db.session.rollback()
        log.exception("could not prune old snapshots of round %s", round_id)
    else:
        if pruned:
            log.debug("round %s: %d old snapshots deleted", round_id, pruned)


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
    _vote_cache_config.update({key: value for key, value in config.items()
                               if key.startswith("CLUSTER_CACHE_")})
    prepare_umap(app)
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


def numba_cache_dir(instance_path: str) -> None:
    """Point numba's on-disk cache (``NUMBA_CACHE_DIR``, read when numba is first imported)
    at the instance folder, unless the environment names one: the installed packages'
    folders need not be writable."""
    os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(instance_path, "numba-cache"))


def prepare_umap(app: Any) -> threading.Thread | None:
    """When an open round clusters with UMAP, import umap-learn and compile its layout in a
    background thread now, so that the round's first refresh in this worker does not wait
    for them (a few seconds of CPU). Returns the thread, or None when no open round uses
    UMAP."""
    numba_cache_dir(app.instance_path)
    return warm_up_umap_in_background() if umap_wanted(app) else None


def umap_wanted(app: Any) -> bool:
    """Whether an open round clusters with UMAP (False when the database cannot say)."""
    with app.app_context():
        try:
            return db.session.scalar(sa.select(Round.id).where(
                Round.clustering_method == "umap", Round.phase != "closed").limit(1)) is not None
        except Exception:  # e.g. the database is down: the loop reports and retries
            log.exception("could not look for rounds that use UMAP")
            return False
        finally:
            db.session.remove()


def warm_up_umap_in_background() -> threading.Thread:
    """Compile UMAP's code (``clustering.analysis.warm_up_umap``) in a daemon thread."""

    def warm() -> None:
        from clustering.analysis import warm_up_umap

        try:
            log.info("UMAP compiled in %.1f s", warm_up_umap())
        except Exception:  # the round's refresh will compile (and report) instead
            log.exception("could not compile UMAP ahead of the first refresh")

    thread = threading.Thread(target=warm, name="hiroba-umap-warm-up", daemon=True)
    thread.start()
    return thread


def start_thread(app: Any, *, refresh: Refresh | None = None) -> tuple[threading.Thread,
                                                                          threading.Event]:
    """Start the runner as a daemon thread of this process."""
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(stop, app), kwargs={"refresh": refresh},
                              name="hiroba-cluster-runner", daemon=True)
    thread.start()
    return thread, stop
