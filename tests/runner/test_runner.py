"""The clustering runner: claims, leases, rate limits, failures, concurrency (issue 7)."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from deliberation.database import db as _db
from deliberation.jobs import runner
from deliberation.models import ClusterSnapshot, Round, SnapshotGroup
from deliberation.models._common import utcnow
from tests import factories


def _request(round_: Round) -> None:
    _db.session.execute(sa.update(Round).where(Round.id == round_.id)
                        .values(snapshot_requested_at=utcnow()))
    _db.session.commit()


def _fresh(round_id: int) -> Round:
    _db.session.expire_all()
    return _db.session.get(Round, round_id)


class FakeRefresh:
    """Writes an "ok" snapshot, like refresh_round (the runner clears the request)."""

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
            _db.session.add(ClusterSnapshot(round_id=round_id, method="pca", status="ok"))
            if not self.clear:  # votes keep coming: the round asks again at once
                _db.session.execute(sa.update(Round).where(Round.id == round_id)
                                    .values(snapshot_requested_at=utcnow()))
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
    assert round_.snapshot_requested_at is None
    assert round_.cluster_lease_owner is None and round_.cluster_lease_until is None
    assert round_.cluster_last_run_at is not None
    assert _fresh(idle.id).cluster_last_run_at is None
    assert runner.run_once(min_interval=5, refresh=fake) == []


def test_rate_limited_per_round(db):
    round_ = factories.make_round()
    _request(round_)
    fake = FakeRefresh()
    t0 = utcnow()
    assert runner.run_once(min_interval=5, now=t0, refresh=fake) == [round_.id]
    _request(round_)  # a new vote right after
    assert runner.run_once(min_interval=5, now=t0 + timedelta(seconds=2), refresh=fake) == []
    assert _fresh(round_.id).snapshot_requested_at is not None  # still pending
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
    assert _fresh(round_.id).cluster_lease_owner == "dead-worker"
    fake = FakeRefresh()
    assert runner.run_once(min_interval=0, now=t0 + timedelta(seconds=30), refresh=fake,
                           lease_seconds=60) == []
    assert runner.run_once(min_interval=0, now=t0 + timedelta(seconds=61), refresh=fake,
                           lease_seconds=60) == [round_.id]
    assert _fresh(round_.id).cluster_lease_owner is None


def test_release_only_by_the_owner(db):
    round_ = factories.make_round()
    _request(round_)
    t0 = utcnow()
    runner.claim_due_rounds(owner="a", now=t0, min_interval=0, lease_seconds=60)
    runner.release(round_.id, "b")
    assert _fresh(round_.id).cluster_lease_owner == "a"
    runner.release(round_.id, "a")
    assert _fresh(round_.id).cluster_lease_owner is None


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
    assert fresh.snapshot_requested_at is not None  # still wanted
    assert fresh.cluster_lease_owner is None  # released
    latest = _db.session.scalar(sa.select(sa.func.max(ClusterSnapshot.id))
                                .where(ClusterSnapshot.round_id == round_.id,
                                       ClusterSnapshot.status == "ok"))
    assert latest == previous.id
    # Not hammered: retried after min_interval, and then it succeeds.
    working = FakeRefresh()
    assert runner.run_once(min_interval=5, now=t0 + timedelta(seconds=1), refresh=working) == []
    assert runner.run_once(min_interval=5, now=t0 + timedelta(seconds=5),
                           refresh=working) == [round_.id]
    assert _fresh(round_.id).snapshot_requested_at is None


def _parallel_runners(app, fake: FakeRefresh, n_threads: int, seconds: float) -> list:
    errors: list[BaseException] = []
    start = threading.Barrier(n_threads)

    def work() -> None:
        try:
            start.wait()
            with app.app_context():
                owner = runner.new_owner()
                deadline = time.monotonic() + seconds
                while time.monotonic() < deadline:
                    runner.run_once(min_interval=0, refresh=fake, owner=owner,
                                    lease_seconds=60)
                _db.session.remove()
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


def test_parallel_runners_never_compute_the_same_round_at_once(app, db):
    rounds = [factories.make_round() for _ in range(4)]
    for round_ in rounds:
        _request(round_)
    # Each run asks again, so every pass of every runner competes for every round.
    fake = FakeRefresh(clear=False, sleep=0.02)
    errors = _parallel_runners(app, fake, n_threads=3, seconds=1.0)
    assert errors == []
    assert fake.overlaps == []
    assert set(fake.calls) == {r.id for r in rounds}
    assert len(fake.calls) >= len(rounds) * 2  # they really did run repeatedly
    leases = _db.session.scalars(sa.select(Round.cluster_lease_owner)).all()
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

    def broken(**kwargs):  # noqa: ANN003
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
        # A vote lands while the snapshot is computed: the claim had cleared the flag,
        # so the vote marks the round again and the next pass picks it up.
        assert _fresh(round_id).snapshot_requested_at is None
        _request(round_)

    t0 = utcnow()
    assert runner.run_once(min_interval=5, now=t0, refresh=refresh) == [round_.id]
    assert _fresh(round_.id).snapshot_requested_at is not None
    assert runner.run_once(min_interval=5, now=t0 + timedelta(seconds=5),
                           refresh=FakeRefresh()) == [round_.id]


def test_votes_the_snapshot_did_not_see_ask_for_another_run(db):
    round_ = factories.make_round()
    participant = factories.make_participant(round_)
    proposal = factories.make_proposal(round_)
    factories.add_vote(participant, proposal, 1)
    _request(round_)

    class Stale:
        status = "ok"
        last_vote_event_id = 0  # saw none of the round's events

    assert runner.run_once(min_interval=0, refresh=lambda rid: Stale()) == [round_.id]
    assert _fresh(round_.id).snapshot_requested_at is not None

    class Fresh:
        status = "ok"
        last_vote_event_id = 10**9

    assert runner.run_once(min_interval=0, refresh=lambda rid: Fresh()) == [round_.id]
    assert _fresh(round_.id).snapshot_requested_at is None


def test_a_failed_snapshot_row_counts_as_a_failure(db, caplog):
    round_ = factories.make_round()
    _request(round_)

    class Failed:
        status = "failed"
        error = "DegenerateData: no votes to cluster"

    with caplog.at_level(logging.ERROR, logger="deliberation.jobs.runner"):
        assert runner.run_once(min_interval=0, refresh=lambda rid: Failed()) == []
    assert "no votes to cluster" in caplog.text
    assert _fresh(round_.id).snapshot_requested_at is not None


def test_votes_newer_than_the_snapshot_mark_the_round(db):
    round_ = factories.make_round()
    participant = factories.make_participant(round_)
    proposal = factories.make_proposal(round_)
    factories.add_vote(participant, proposal, 1)  # no flag set: a lost mark
    assert _fresh(round_.id).snapshot_requested_at is None
    fake = FakeRefresh()
    assert runner.run_once(min_interval=0, refresh=fake) == [round_.id]
    # Once a snapshot has seen the vote, nothing is marked; closed rounds never are.
    _db.session.add(ClusterSnapshot(round_id=round_.id, method="pca", status="ok",
                                    last_vote_event_id=10**9))
    _db.session.commit()
    _db.session.execute(sa.update(Round).values(snapshot_requested_at=None))
    _db.session.commit()
    assert runner.mark_rounds_with_unseen_votes(utcnow()) == 0
    closed = factories.make_round(phase="closed")
    other = factories.make_participant(closed)
    factories.add_vote(other, factories.make_proposal(closed), 1)
    assert runner.mark_rounds_with_unseen_votes(utcnow()) == 0


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
        won = runner.claim_due_rounds(owner="w1", now=utcnow(), min_interval=0,
                                      lease_seconds=60)
        other.rollback()
    assert won == [round_.id]
    assert _fresh(round_.id).cluster_lease_owner == "w1"
