"""The runner with the real ``refresh_round`` (deliberation/snapshots.py)."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from deliberation import runner
from deliberation.database import db as _db
from deliberation.models import ClusterSnapshot, Round, SnapshotMembership, VoteEvent
from deliberation.models._common import utcnow
from tests.agenda.conftest import build_planted_round


def _request(round_id: int) -> None:
    _db.session.execute(sa.update(Round).where(Round.id == round_id)
                        .values(snapshot_requested_at=utcnow()))
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
    round_ = _db.session.get(Round, rid)
    assert round_.snapshot_requested_at is None and round_.cluster_lease_owner is None


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
        except BaseException as error:  # noqa: BLE001
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
