"""Writing a snapshot's rows: whichever way the database checks their references (row by
row, or on PostgreSQL one set-based query per table), a row that points nowhere is
refused with nothing stored, and a participant named by a snapshot being written cannot be
deleted until it is committed."""

from __future__ import annotations

import numpy as np
import pytest
import sqlalchemy as sa

from deliberation.database import db as _db
from deliberation.engine.snapshots import current_votes, refresh_round
from deliberation.models import ClusterSnapshot, Participant, SnapshotMembership
from tests.agenda.conftest import build_planted_round


class Votes:
    """A votes source (the runner's cache stands here) that returns the given arrays."""

    def __init__(self, arrays) -> None:
        self.arrays = arrays

    def current(self, round_id: int):
        return self.arrays

    def first_votes(self, round_id: int):
        return {}

    def switches(self, round_id: int):
        return {}


def _snapshots() -> int:
    return _db.session.scalar(sa.select(sa.func.count()).select_from(ClusterSnapshot))


def test_a_membership_of_a_participant_that_does_not_exist_is_refused(db):
    rid = build_planted_round().round.id
    participant, proposal, value = current_votes(rid)
    # a participant who is nowhere in the database, with the votes of an existing one
    ghost = int(participant.max()) + 1000
    first = participant == participant[0]
    source = Votes((np.concatenate([participant, np.full(first.sum(), ghost)]),
                    np.concatenate([proposal, proposal[first]]),
                    np.concatenate([value, value[first]])))
    with pytest.raises((RuntimeError, sa.exc.IntegrityError)):
        refresh_round(rid, votes=source)
    _db.session.rollback()
    assert _snapshots() == 0
    assert refresh_round(rid).n_participants == len(np.unique(participant))


def test_a_participant_named_by_a_snapshot_being_written_cannot_be_deleted(app, db):
    if _db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: there is no concurrent delete")
    rid = build_planted_round().round.id
    voter = int(current_votes(rid)[0][0])
    other = sa.create_engine(_db.engine.url)
    attempts: list[str] = []

    def delete_before_the_commit(session) -> None:
        if attempts:
            return
        with other.connect() as connection:
            connection.exec_driver_sql("SET lock_timeout = '200ms'")
            try:
                connection.execute(sa.delete(Participant).where(Participant.id == voter))
            except sa.exc.OperationalError:
                attempts.append("waited")
            else:
                attempts.append("deleted")
            connection.rollback()

    sa.event.listen(_db.session, "before_commit", delete_before_the_commit)
    try:
        snapshot = refresh_round(rid)
    finally:
        sa.event.remove(_db.session, "before_commit", delete_before_the_commit)
        other.dispose()
    assert attempts == ["waited"]
    assert _db.session.scalar(sa.select(SnapshotMembership.id).where(
        SnapshotMembership.snapshot_id == snapshot.id,
        SnapshotMembership.participant_id == voter)) is not None
