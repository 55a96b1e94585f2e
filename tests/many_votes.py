"""Many votes at once for tests, apart from the factories: it loads NumPy, which a test of
the web path's imports (tests/test_app.py) must not find loaded by the factories."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from deliberation.bulk import EpochSeconds, insert_columns
from deliberation.models import Vote, VoteEvent, utcnow


def insert_votes(rows: Sequence[Mapping[str, Any]], *, source: str = "import") -> None:
    """Many votes and their events at once, written as an import writes them (COPY on
    PostgreSQL), in the session's transaction. Each row: ``round_id``, ``participant_id``,
    ``proposal_id``, ``value`` and, if the time matters, ``created_at``. A single-row
    INSERT a vote made these rounds half of every statement a PostgreSQL run sent."""
    now = utcnow().timestamp()
    when = EpochSeconds(np.array([row["created_at"].timestamp() if "created_at" in row
                                  else now for row in rows], dtype=np.float64))
    columns: dict[str, Any] = {
        name: np.array([row[name] for row in rows], dtype=np.int64)
        for name in ("round_id", "participant_id", "proposal_id", "value")}
    insert_columns(Vote.__table__, {**columns, "created_at": when, "updated_at": when},
                   len(rows))
    insert_columns(VoteEvent.__table__, {**columns, "created_at": when, "source": source},
                   len(rows))
