"""The clustering runner: claims, leases, rate limits, failures, concurrency."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from deliberation import small_counts
from deliberation.database import db as _db
from deliberation.jobs import runner
from deliberation.models import (
    ClusteringJob,
    ClusterSnapshot,
    Participant,
    Proposal,
    Round,
    SnapshotGroup,
    VoteEvent,
    utcnow,
)
from deliberation.models.snapshot import UNSEEN_EVENTS_READ
from deliberation.services import health
from deliberation.services.snapshot_requests import request_snapshot
from tests import factories


def _request(round_: Round) -> None:
    """A change that is not a vote (moderation, policy...) asks for a snapshot."""
    request_snapshot(round_)
    _db.session.commit()


def _fresh(round_id: int) -> ClusteringJob:
    """The round's job row as stored now."""
    _db.session.expire_all()
    return _db.session.get(ClusteringJob, round_id)


def _newest_event(round_id: int) -> int | None:
    return _db.session.scalar(sa.select(sa.func.max(VoteEvent.id))
                              .where(VoteEvent.round_id == round_id))


def _ok_snapshot(round_id: int, last_vote_event_id: int | None) -> ClusterSnapshot:
    """An "ok" snapshot that has seen the round's events up to ``last_vote_event_id``."""
    snapshot = ClusterSnapshot(round_id=round_id, method="pca", status="ok",
                               last_vote_event_id=last_vote_event_id)
    _db.session.add(snapshot)
    _db.session.commit()
    return snapshot


def _changes(participant: Participant, proposal: Proposal, n: int) -> None:
    """One person changing their vote on one proposal ``n`` times (events only)."""
    _db.session.add_all(VoteEvent(round_id=proposal.round_id, participant_id=participant.id,
                                  proposal_id=proposal.id, value=(1, -1)[i % 2])
                        for i in range(n))
    _db.session.commit()


def _vote(round_: Round) -> None:
    """New votes (and their events) in the round, by as many people as the runner waits
    for before a new snapshot (the small-count minimum)."""
    proposal = factories.make_proposal(round_)
    for _ in range(small_counts.MIN_COUNT):
        factories.add_vote(factories.make_participant(round_), proposal, 1)


class FakeRefresh:
    """Writes an "ok" snapshot, like refresh_and_escalate."""

    def __init__(self, fail: bool = False, clear: bool = True, sleep: float = 0.0) -> None:
        self.calls: list[int] = []
        self.fail, self.clear, self.sleep = fail, clear, sleep
        self.lock = threading.Lock()
        self.running: set[int] = set()
        self.overlaps: list[int] = []

    def __call__(self, round_id: int) -> None:
        with self.lock:
            if round_id in self.running:
                self.overlaps.append(round_id)
            self.running.add(round_id)
            self.calls.append(round_id)
        try:
            if self.sleep:
                time.sleep(self.sleep)
            if self.fail:
                raise RuntimeError("clustering exploded")
            _ok_snapshot(round_id, _newest_event(round_id))
            if not self.clear:  # changes keep coming: the round asks again at once
                request_snapshot(_db.session.get(Round, round_id))
                _db.session.commit()
        finally:
            with self.lock:
                self.running.discard(round_id)


def test_run_once_refreshes_requested_rounds_only(db):
    wanted, idle = factories.make_round(), factories.make_round()
    _request(wanted)
    fake = FakeRefresh()
    assert runner.run_once(min_interval=5, refresh=fake) == [wanted.id]
    assert fake.calls == [wanted.id]
    round_ = _fresh(wanted.id)
    assert round_.requested_at is None
    assert round_.lease_owner is None and round_.lease_until is None
    assert round_.last_run_at is not None
    assert _fresh(idle.id).last_run_at is None
    assert runner.run_once(min_interval=5, refresh=fake) == []


def test_rate_limited_per_round(db):
    round_ = factories.make_round()
    _request(round_)
    fake = FakeRefresh()
    t0 = utcnow()
    assert runner.run_once(min_interval=5, now=t0, refresh=fake) == [round_.id]
    _request(round_)  # a new vote right after
    assert runner.run_once(min_interval=5, now=t0 + timedelta(seconds=2), refresh=fake) == []
    assert _fresh(round_.id).requested_at is not None  # still pending
    assert runner.run_once(min_interval=5, now=t0 + timedelta(seconds=5), refresh=fake) == [
        round_.id]
    assert len(fake.calls) == 2


def test_leased_round_is_skipped_until_the_lease_expires(db):
    round_ = factories.make_round()
    _request(round_)
    t0 = utcnow()
    # A worker claims the round and then dies without releasing it.
    assert runner.claim_due_rounds(owner="dead-worker", now=t0, min_interval=0,
                                   lease_seconds=60) == [round_.id]
    assert _fresh(round_.id).lease_owner == "dead-worker"
    fake = FakeRefresh()
    assert runner.run_once(min_interval=0, now=t0 + timedelta(seconds=30), refresh=fake,
                           lease_seconds=60) == []
    assert runner.run_once(min_interval=0, now=t0 + timedelta(seconds=61), refresh=fake,
                           lease_seconds=60) == [round_.id]
    assert _fresh(round_.id).lease_owner is None


def test_release_only_by_the_owner(db):
    round_ = factories.make_round()
    _request(round_)
    t0 = utcnow()
    runner.claim_due_rounds(owner="a", now=t0, min_interval=0, lease_seconds=60)
    runner.release(round_.id, "b")
    assert _fresh(round_.id).lease_owner == "a"
    runner.release(round_.id, "a")
    assert _fresh(round_.id).lease_owner is None


def test_failed_refresh_is_logged_retried_and_keeps_the_previous_snapshot(db, caplog):
    round_ = factories.make_round()
    previous = ClusterSnapshot(round_id=round_.id, method="pca", status="ok")
    _db.session.add(previous)
    _db.session.commit()
    _request(round_)
    t0 = utcnow()
    failing = FakeRefresh(fail=True)
    with caplog.at_level(logging.ERROR, logger="deliberation.jobs.runner"):
        assert runner.run_once(min_interval=5, now=t0, refresh=failing) == []
    assert "clustering refresh failed for round" in caplog.text
    assert "clustering exploded" in caplog.text
    fresh = _fresh(round_.id)
    assert fresh.requested_at is not None  # still wanted
    assert fresh.lease_owner is None  # released
    latest = _db.session.scalar(sa.select(sa.func.max(ClusterSnapshot.id))
                                .where(ClusterSnapshot.round_id == round_.id,
                                       ClusterSnapshot.status == "ok"))
    assert latest == previous.id
    # Not hammered: retried after min_interval, and then it succeeds.
    working = FakeRefresh()
    assert runner.run_once(min_interval=5, now=t0 + timedelta(seconds=1), refresh=working) == []
    assert runner.run_once(min_interval=5, now=t0 + timedelta(seconds=5),
                           refresh=working) == [round_.id]
    assert _fresh(round_.id).requested_at is None


def _parallel_runners(app, fake: FakeRefresh, n_threads: int, seconds: float,
                      enough_calls: int | None = None) -> list:
    """Run ``n_threads`` runners for ``seconds``, or (a busy machine) until ``fake`` was
    called ``enough_calls`` times, within 20 s."""
    errors: list[BaseException] = []
    start = threading.Barrier(n_threads)

    def more() -> bool:
        if time.monotonic() < deadline:
            return True
        return enough_calls is not None and len(fake.calls) < enough_calls \
            and time.monotonic() < deadline + 20

    def work() -> None:
        try:
            start.wait()
            with app.app_context():
                owner = runner.new_owner()
                while more():
                    runner.run_once(min_interval=0, refresh=fake, owner=owner,
                                    lease_seconds=60)
                _db.session.remove()
        except BaseException as error:
            errors.append(error)

    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=work) for _ in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_parallel_runners_never_compute_the_same_round_at_once(app, db):
    rounds = [factories.make_round() for _ in range(4)]
    for round_ in rounds:
        _request(round_)
    # Each run asks again, so every pass of every runner competes for every round.
    fake = FakeRefresh(clear=False, sleep=0.02)
    errors = _parallel_runners(app, fake, n_threads=3, seconds=1.0,
                               enough_calls=len(rounds) * 2)
    assert errors == []
    assert fake.overlaps == []
    assert set(fake.calls) == {r.id for r in rounds}
    assert len(fake.calls) >= len(rounds) * 2  # they really did run repeatedly
    leases = _db.session.scalars(sa.select(ClusteringJob.lease_owner)).all()
    assert leases == [None] * len(rounds)


def test_each_request_is_served_once_by_parallel_runners(app, db):
    rounds = [factories.make_round() for _ in range(6)]
    for round_ in rounds:
        _request(round_)
    fake = FakeRefresh(sleep=0.01)
    errors = _parallel_runners(app, fake, n_threads=2, seconds=0.5)
    assert errors == []
    assert sorted(fake.calls) == sorted(r.id for r in rounds)


def test_snapshot_never_half_visible(app, db):
    """A reader during a write sees the old snapshot with all its groups, or the new one."""
    round_ = factories.make_round()
    round_id = round_.id
    first = ClusterSnapshot(round_id=round_id, method="pca", status="ok", k=3)
    first.groups = [SnapshotGroup(group_id=g, size=1) for g in range(3)]
    _db.session.add(first)
    _db.session.commit()
    _request(round_)
    in_write, done = threading.Event(), threading.Event()

    def slow_refresh(rid: int) -> None:
        snapshot = ClusterSnapshot(round_id=rid, method="pca", status="ok", k=3)
        _db.session.add(snapshot)
        _db.session.flush()
        _db.session.add(SnapshotGroup(snapshot_id=snapshot.id, group_id=0, size=1))
        _db.session.flush()
        in_write.set()
        time.sleep(0.3)
        for g in (1, 2):
            _db.session.add(SnapshotGroup(snapshot_id=snapshot.id, group_id=g, size=1))
        _db.session.commit()

    def write() -> None:
        with app.app_context():
            runner.run_once(min_interval=0, refresh=slow_refresh)
            _db.session.remove()
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    assert in_write.wait(10)
    seen = []
    while not done.is_set():
        with app.app_context():
            latest = _db.session.scalar(
                sa.select(ClusterSnapshot).where(ClusterSnapshot.round_id == round_id,
                                                 ClusterSnapshot.status == "ok")
                .order_by(ClusterSnapshot.id.desc()).limit(1))
            seen.append((latest.id, len(latest.groups)))
            _db.session.remove()
        time.sleep(0.02)
    writer.join(10)
    assert seen and seen[0] == (first.id, 3)
    assert all(groups == 3 for _, groups in seen)


def test_background_thread_runs_until_stopped(app, db):
    round_ = factories.make_round()
    _request(round_)
    fake = FakeRefresh()
    stop = threading.Event()
    thread = threading.Thread(target=runner.run_forever, args=(stop, app),
                              kwargs={"refresh": fake, "poll": 0.02})
    thread.start()
    deadline = time.monotonic() + 10
    while not fake.calls and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
    assert fake.calls == [round_.id]


def test_run_forever_survives_a_broken_pass(app, db, monkeypatch, caplog):
    calls = []

    def broken(**kwargs):
        calls.append(1)
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("db down"))

    monkeypatch.setattr(runner, "run_once", broken)
    stop = threading.Event()
    thread = threading.Thread(target=runner.run_forever, args=(stop, app),
                              kwargs={"poll": 0.01})
    with caplog.at_level(logging.ERROR, logger="deliberation.jobs.runner"):
        thread.start()
        deadline = time.monotonic() + 5
        while len(calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        stop.set()
        thread.join(5)
    assert len(calls) >= 2 and not thread.is_alive()
    assert "clustering runner pass failed" in caplog.text


def test_a_request_during_the_run_is_kept(db):
    round_ = factories.make_round()
    _request(round_)

    def refresh(round_id: int) -> None:
        # A moderation change lands while the snapshot is computed: the claim took the
        # earlier request over, so this one is a new request for the next pass.
        assert _fresh(round_id).requested_at is None
        _request(round_)

    t0 = utcnow()
    assert runner.run_once(min_interval=5, now=t0, refresh=refresh) == [round_.id]
    assert _fresh(round_.id).requested_at is not None
    assert runner.run_once(min_interval=5, now=t0 + timedelta(seconds=5),
                           refresh=FakeRefresh()) == [round_.id]


def test_votes_make_a_round_due_without_any_request(db):
    round_ = factories.make_round()
    _vote(round_)
    assert _db.session.get(ClusteringJob, round_.id) is None  # a vote writes no job
    t0 = utcnow()
    fake = FakeRefresh()
    assert runner.run_once(min_interval=5, now=t0, refresh=fake) == [round_.id]
    # The snapshot saw every vote: not due again, however long we wait...
    assert runner.run_once(min_interval=5, now=t0 + timedelta(seconds=60),
                           refresh=fake) == []
    # ...until the next vote, which waits for the minimum interval.
    _vote(round_)
    t1 = t0 + timedelta(seconds=61)
    assert runner.run_once(min_interval=5, now=t1, refresh=fake) == [round_.id]
    _vote(round_)
    assert runner.run_once(min_interval=5, now=t1 + timedelta(seconds=2), refresh=fake) == []
    assert runner.run_once(min_interval=5, now=t1 + timedelta(seconds=5),
                           refresh=fake) == [round_.id]


def test_each_round_is_compared_with_its_own_snapshot(db):
    behind, seen = factories.make_round(), factories.make_round()
    _vote(behind)
    _vote(seen)
    _db.session.add(ClusterSnapshot(round_id=seen.id, method="pca", status="ok",
                                    last_vote_event_id=_newest_event(seen.id)))
    _db.session.commit()
    assert runner.run_once(min_interval=0, refresh=FakeRefresh()) == [behind.id]
    assert health.pending_since(behind.id) is None
    _vote(behind)
    assert health.pending_since(behind.id) is not None
    assert health.pending_since(seen.id) is None


def test_a_vote_during_the_run_makes_the_round_due_again(db):
    round_ = factories.make_round()
    _vote(round_)

    def refresh(round_id: int) -> ClusterSnapshot:
        seen = _newest_event(round_id)  # what the computation read
        _vote(round_)  # lands while the snapshot is computed
        return _ok_snapshot(round_id, seen)

    t0 = utcnow()
    assert runner.run_once(min_interval=5, now=t0, refresh=refresh) == [round_.id]
    assert _fresh(round_.id).requested_at is None  # nothing asked: the vote itself is due
    fake = FakeRefresh()
    assert runner.run_once(min_interval=5, now=t0 + timedelta(seconds=5),
                           refresh=fake) == [round_.id]
    assert runner.run_once(min_interval=5, now=t0 + timedelta(seconds=10), refresh=fake) == []


def test_few_voters_wait_but_one_persons_many_changes_do_not_stall_the_round(db):
    round_ = factories.make_round()
    person, proposal = factories.make_participant(round_), factories.make_proposal(round_)
    _changes(person, proposal, UNSEEN_EVENTS_READ - 1)
    assert runner.run_once(min_interval=0, refresh=FakeRefresh()) == []
    _changes(person, proposal, 1)
    assert runner.run_once(min_interval=0, refresh=FakeRefresh()) == [round_.id]


def test_a_pile_from_too_few_people_is_looked_at_once_a_minute_not_every_pass(db):
    """One person's hundreds of changes make the round due, but the run holds their votes
    back (its snapshot counts up to where the last one did), so the pile stays unseen. The
    runner looks at it again only after PILE_INTERVAL, not every few seconds: otherwise
    one account could keep the runner recomputing the round for as long as it liked."""
    round_ = factories.make_round()
    _changes(factories.make_participant(round_), factories.make_proposal(round_),
             UNSEEN_EVENTS_READ)
    runs: list[int] = []

    def holds_back(round_id: int) -> ClusterSnapshot:  # what refresh_round does here
        runs.append(round_id)
        return _ok_snapshot(round_id, None)

    t0 = utcnow()
    assert runner.run_once(min_interval=3, now=t0, refresh=holds_back) == [round_.id]
    for seconds in (3, 30, runner.PILE_INTERVAL - 1):
        assert runner.run_once(min_interval=3, now=t0 + timedelta(seconds=seconds),
                               refresh=holds_back) == []
    assert runner.run_once(min_interval=3, now=t0 + timedelta(seconds=runner.PILE_INTERVAL),
                           refresh=holds_back) == [round_.id]
    assert runs == [round_.id, round_.id]
    # People who vote behind the pile are found by the next look at it, not sooner: the
    # price of reading only the oldest unseen events on every pass.
    _vote(round_)
    last_look = t0 + timedelta(seconds=runner.PILE_INTERVAL)
    assert runner.run_once(min_interval=3, now=last_look + timedelta(seconds=3),
                           refresh=FakeRefresh()) == []
    assert runner.run_once(min_interval=3,
                           now=last_look + timedelta(seconds=runner.PILE_INTERVAL),
                           refresh=FakeRefresh()) == [round_.id]
    assert runner.run_once(min_interval=3,
                           now=last_look + timedelta(seconds=runner.PILE_INTERVAL + 3),
                           refresh=FakeRefresh()) == []


def test_a_failed_run_keeps_its_votes_due(db):
    round_ = factories.make_round()
    _vote(round_)
    t0 = utcnow()
    assert runner.run_once(min_interval=5, now=t0, refresh=FakeRefresh(fail=True)) == []
    assert runner.run_once(min_interval=5, now=t0 + timedelta(seconds=5),
                           refresh=FakeRefresh()) == [round_.id]


def test_a_failed_snapshot_row_counts_as_a_failure(db, caplog):
    round_ = factories.make_round()
    _request(round_)

    class Failed:
        status = "failed"
        error = "DegenerateData: no votes to cluster"

    with caplog.at_level(logging.ERROR, logger="deliberation.jobs.runner"):
        assert runner.run_once(min_interval=0, refresh=lambda rid: Failed()) == []
    assert "no votes to cluster" in caplog.text
    assert _fresh(round_.id).requested_at is not None


def test_a_request_keeps_its_first_time(db):
    round_ = factories.make_round()
    _request(round_)
    first = _fresh(round_.id).requested_at
    _request(round_)
    assert _fresh(round_.id).requested_at == first


def test_open_vote_transactions_do_not_hide_the_round_from_the_runner(app, db):
    """PostgreSQL: a vote being written holds a KEY SHARE lock on its round (foreign keys);
    the runner's SKIP LOCKED claim must not skip the round because of it."""
    if _db.engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL only")
    from deliberation.models import Participant, Vote

    round_ = factories.make_round(phase="voting")
    proposal = factories.make_proposal(round_)
    participant = Participant(round_id=round_.id, source="import", kind="unknown",
                              external_id="p1")
    _db.session.add(participant)
    _db.session.commit()
    _request(round_)
    with _db.engine.connect() as other:  # a vote transaction, still open
        other.execute(sa.insert(Vote).values(
            round_id=round_.id, participant_id=participant.id, proposal_id=proposal.id,
            value=1, created_at=utcnow(), updated_at=utcnow()))
        other.execute(sa.insert(VoteEvent).values(
            round_id=round_.id, participant_id=participant.id, proposal_id=proposal.id,
            value=1, source="web", created_at=utcnow()))
        won = runner.claim_due_rounds(owner="w1", now=utcnow(), min_interval=0,
                                      lease_seconds=60)
        other.rollback()
    assert won == [round_.id]
    assert _fresh(round_.id).lease_owner == "w1"


def test_a_job_locked_by_another_worker_is_skipped_not_waited_for(app, db):
    """PostgreSQL: SKIP LOCKED, so a worker never queues behind another one's claim."""
    if _db.engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL only")
    round_ = factories.make_round()
    _request(round_)
    with _db.engine.connect() as other:  # another worker between its SELECT and UPDATE
        other.execute(sa.select(ClusteringJob).where(ClusteringJob.round_id == round_.id)
                      .with_for_update())
        assert runner.claim_due_rounds(owner="w1", now=utcnow(), min_interval=0,
                                       lease_seconds=60) == []
        other.rollback()
    assert runner.claim_due_rounds(owner="w1", now=utcnow(), min_interval=0,
                                   lease_seconds=60) == [round_.id]
