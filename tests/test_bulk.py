"""The bulk writer's timestamp text: the same text SQLAlchemy stores for a datetime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy.dialects import sqlite

from deliberation.bulk import utc_text

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
