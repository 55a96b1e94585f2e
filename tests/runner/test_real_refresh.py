"""The runner with the real refresh: compute and store the snapshot, then escalate."""

from __future__ import annotations

import logging
import threading

import pytest
import sqlalchemy as sa

from deliberation.database import db as _db
from deliberation.jobs import runner
from deliberation.jobs.snapshot_history import prune_snapshots
from deliberation.models import (
    ClusteringJob,
    ClusterSnapshot,
    Escalation,
    Round,
    SnapshotGroup,
    SnapshotMembership,
    SnapshotProposalStat,
    VoteEvent,
)
from deliberation.models.snapshot import latest_snapshot
from deliberation.services.snapshot_requests import request_snapshot
from tests import factories
from tests.agenda.conftest import build_planted_round


def _request(round_id: int) -> None:
    request_snapshot(_db.session.get(Round, round_id))
    _db.session.commit()


def test_run_once_with_the_real_refresh(db):
    planted = build_planted_round()
    rid = planted.round.id
    _request(rid)
    assert runner.run_once(min_interval=5) == [rid]
    snapshot = _db.session.scalar(sa.select(ClusterSnapshot).where(
        ClusterSnapshot.round_id == rid))
    assert snapshot.status == "ok" and snapshot.k >= 2
    assert snapshot.last_vote_event_id == _db.session.scalar(sa.select(sa.func.max(VoteEvent.id)))
    _db.session.expire_all()
    job = _db.session.get(ClusteringJob, rid)
    assert job.requested_at is None and job.lease_owner is None
    assert runner.run_once(min_interval=0) == []  # the snapshot saw every vote


def test_real_snapshots_are_never_half_visible(app, db):
    planted = build_planted_round()
    rid = planted.round.id
    _request(rid)
    assert runner.run_once(min_interval=0) == [rid]
    stop = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            with app.app_context():
                for _ in range(3):
                    _request(rid)
                    runner.run_once(min_interval=0)
                _db.session.remove()
        except BaseException as error:
            errors.append(error)
        finally:
            stop.set()

    writer = threading.Thread(target=write)
    writer.start()
    seen = set()
    while not stop.is_set():
        with app.app_context():
            snapshot = _db.session.scalar(
                sa.select(ClusterSnapshot).where(ClusterSnapshot.round_id == rid,
                                                 ClusterSnapshot.status == "ok")
                .order_by(ClusterSnapshot.id.desc()).limit(1))
            members = _db.session.scalar(sa.select(sa.func.count()).where(
                SnapshotMembership.snapshot_id == snapshot.id))
            assert len(snapshot.groups) == snapshot.k
            assert members == snapshot.n_participants
            seen.add(snapshot.id)
            _db.session.remove()
    writer.join(30)
    assert errors == []
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(ClusterSnapshot)) == 4
    assert seen


# ------------------------------------------------------------------ bounded history


def _snapshot_ids(rid: int) -> list[int]:
    return list(_db.session.scalars(sa.select(ClusterSnapshot.id).where(
        ClusterSnapshot.round_id == rid).order_by(ClusterSnapshot.id)))


def test_runner_keeps_a_bounded_history_and_the_evidence(db):
    planted = build_planted_round()
    rid = planted.round.id
    for _ in range(6):
        _request(rid)
        assert runner.run_once(min_interval=0, snapshot_history=3) == [rid]
    cited = set(_db.session.scalars(sa.select(Escalation.snapshot_id).where(
        Escalation.round_id == rid)))
    assert cited and None not in cited  # the planted consensus was escalated, with evidence
    made = next(iter(_db.session.scalars(sa.select(sa.func.max(ClusterSnapshot.id)))))
    ids = _snapshot_ids(rid)
    newest_three = {made - 2, made - 1, made}  # one snapshot per run, ids in order
    assert set(ids) == newest_three | cited
    assert len(ids) < 6
    # Groups, memberships and counts of deleted snapshots are gone with them.
    for child in (SnapshotMembership, SnapshotGroup, SnapshotProposalStat):
        orphans = _db.session.scalar(sa.select(sa.func.count()).select_from(child).where(
            child.snapshot_id.not_in(ids)))
        assert orphans == 0
    latest = latest_snapshot(rid)
    members = _db.session.scalar(sa.select(sa.func.count()).where(
        SnapshotMembership.snapshot_id == latest.id))
    assert latest.id == made and members == latest.n_participants > 0


def test_prune_keeps_the_newest_ok_snapshot_behind_failed_runs(db):
    round_ = factories.make_round(phase="voting")
    first_ok = ClusterSnapshot(round_id=round_.id, method="pca", status="ok")
    _db.session.add(first_ok)
    _db.session.flush()
    _db.session.add(SnapshotGroup(snapshot_id=first_ok.id, group_id=0, size=3))
    newest_ok = ClusterSnapshot(round_id=round_.id, method="pca", status="ok")
    _db.session.add(newest_ok)
    _db.session.commit()
    failed = []
    for _ in range(4):
        snapshot = ClusterSnapshot(round_id=round_.id, method="pca", status="failed", error="x")
        _db.session.add(snapshot)
        _db.session.commit()
        failed.append(snapshot.id)
    assert prune_snapshots(round_.id, keep=2) == 3
    assert _snapshot_ids(round_.id) == [newest_ok.id, *failed[-2:]]
    assert latest_snapshot(round_.id).id == newest_ok.id
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(SnapshotGroup)) == 0
    assert prune_snapshots(round_.id, keep=2) == 0  # nothing more to do
    with pytest.raises(ValueError):
        prune_snapshots(round_.id, keep=0)


def test_a_failed_prune_does_not_fail_the_refresh(db, monkeypatch, caplog):
    from deliberation.jobs import snapshot_history

    planted = build_planted_round()
    rid = planted.round.id

    def broken(round_id: int, keep: int) -> int:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(snapshot_history, "prune_snapshots", broken)
    _request(rid)
    with caplog.at_level(logging.ERROR, logger="deliberation.jobs.runner"):
        assert runner.run_once(min_interval=0, snapshot_history=1) == [rid]
    assert "could not prune old snapshots" in caplog.text
    _db.session.expire_all()
    assert _db.session.get(ClusteringJob, rid).lease_owner is None  # lease released


def test_runner_caps_the_clustering_threads(db, monkeypatch):
    """The runner shares the machine with the web processes: one BLAS/OpenMP thread per
    run by default (CLUSTER_THREADS), the libraries' default when asked for 0/None."""
    from threadpoolctl import threadpool_info

    import clustering

    real_analyze = clustering.analyze
    seen: list[int] = []

    def analyze(*args, **kwargs):
        seen.append(max(pool["num_threads"] for pool in threadpool_info()))
        return real_analyze(*args, **kwargs)

    monkeypatch.setattr(clustering, "analyze", analyze)
    rid = build_planted_round().round.id
    _request(rid)
    assert runner.run_once(min_interval=0) == [rid]
    _request(rid)
    assert runner.run_once(min_interval=0, threads=None) == [rid]
    assert seen[0] == 1
    assert seen[1] == max(pool["num_threads"] for pool in threadpool_info())


def test_bulk_writer_refuses_rows_without_defaulted_columns(db):
    """Snapshot rows are written column by column (COPY on PostgreSQL), which skips
    SQLAlchemy's Python-side defaults: rows that rely on one are refused instead of failing
    on NOT NULL, on both databases."""
    from deliberation.bulk import insert_columns

    round_ = factories.make_round(phase="voting")
    proposal = factories.make_proposal(round_)
    snapshot = ClusterSnapshot(round_id=round_.id, method="pca", status="ok")
    _db.session.add(snapshot)
    _db.session.flush()
    with pytest.raises(ValueError, match="agree"):
        insert_columns(SnapshotProposalStat.__table__, {
            "snapshot_id": snapshot.id, "proposal_id": proposal.id, "group_id": None}, 1)
    _db.session.rollback()
