"""The bulk writer: its timestamp text is the text SQLAlchemy stores for a datetime; NULLs
(masked values) on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from deliberation.bulk import insert_columns, utc_text
from deliberation.database import db as _db
from deliberation.models import ClusterSnapshot, SnapshotMembership
from tests import factories

EDGES = [datetime(1970, 1, 1, tzinfo=UTC), datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
         datetime(2000, 2, 29, 12, tzinfo=UTC), datetime(1900, 3, 1, tzinfo=UTC),
         datetime(2100, 2, 28, 23, 59, 59, tzinfo=UTC), datetime(2024, 12, 31, 23, 59, 59, 500_001,
                                                                   tzinfo=UTC),
         datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)]


def _times() -> list[datetime]:
    """The edges, whole seconds over the whole calendar, and microseconds from 1900 to
    2100, where a float's epoch seconds keep every microsecond."""
    rng = np.random.default_rng(7)
    start = datetime(1, 1, 1, tzinfo=UTC)
    seconds = [start + timedelta(seconds=int(s)) for s in rng.integers(0, 315_537_897_599, 1000)]
    recent = [datetime(1900, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(us))
              for us in rng.integers(0, 200 * 365 * 86_400 * 10**6, 1000)]
    return EDGES + seconds + recent


def _seconds(times: list[datetime]) -> np.ndarray:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return np.array([(t - epoch) / timedelta(microseconds=1) / 1e6 for t in times])


def test_times_read_as_sqlalchemy_stores_them() -> None:
    times = _times()
    store = sqlite.DATETIME().bind_processor(sqlite.dialect())
    expected = [store(t) for t in times]
    got = utc_text(_seconds(times), "sqlite")
    assert got == expected
    assert utc_text(_seconds(times), "postgresql") == [text + "+00" for text in expected]


def test_times_outside_the_calendar_are_refused() -> None:
    with pytest.raises(ValueError, match="years 1 to 9999"):
        utc_text(np.array([_seconds(EDGES)[-1] + 1.0]), "sqlite")
    assert utc_text(np.array([]), "sqlite") == []


def test_masked_values_are_stored_as_null_beside_every_other_value(db) -> None:
    """A snapshot's memberships: NULL groups (masked) between numbers, on both databases
    (PostgreSQL's binary COPY leaves out a NULL field's bytes; a row misaligned by one
    byte would garble every value after it or be refused)."""
    round_ = factories.make_round()
    people = [factories.make_participant(round_) for _ in range(7)]
    snapshot = ClusterSnapshot(round_id=round_.id, status="ok", method="pca")
    _db.session.add(snapshot)
    _db.session.flush()
    groups = np.ma.masked_array([3, 0, -5, 2**31 - 1, 1, 0, 9],
                                mask=[False, True, False, True, True, False, False])
    x = np.array([0.5, -1.25, 1e-300, 3.0, -0.0, 7.5, 1e300])
    insert_columns(SnapshotMembership.__table__, {
        "snapshot_id": snapshot.id,
        "participant_id": np.array([p.id for p in people], dtype=np.int64),
        "x": x, "y": -x, "group_id": groups}, len(people))
    _db.session.commit()
    rows = _db.session.execute(
        sa.select(SnapshotMembership.participant_id, SnapshotMembership.x,
                  SnapshotMembership.y, SnapshotMembership.group_id)
        .where(SnapshotMembership.snapshot_id == snapshot.id)
        .order_by(SnapshotMembership.participant_id)).all()
    assert [tuple(row) for row in rows] == [
        (p.id, float(x[i]), -float(x[i]), None if groups.mask[i] else int(groups.data[i]))
        for i, p in enumerate(people)]


def test_a_masked_value_out_of_range_is_ignored_and_a_present_one_refused(db) -> None:
    round_ = factories.make_round()
    person = factories.make_participant(round_)
    snapshot = ClusterSnapshot(round_id=round_.id, status="ok", method="pca")
    _db.session.add(snapshot)
    _db.session.flush()
    columns = {"snapshot_id": snapshot.id, "participant_id": np.array([person.id]),
               "x": np.array([0.0]), "y": np.array([0.0])}
    insert_columns(SnapshotMembership.__table__, {
        **columns, "group_id": np.ma.masked_array([2**40], mask=[True])}, 1)
    assert _db.session.scalar(sa.select(SnapshotMembership.group_id)) is None
    _db.session.rollback()
    if _db.session.get_bind().dialect.name == "postgresql":
        with pytest.raises(ValueError, match="out of range"):
            insert_columns(SnapshotMembership.__table__, {
                **columns, "group_id": np.ma.masked_array([2**40], mask=[False])}, 1)
