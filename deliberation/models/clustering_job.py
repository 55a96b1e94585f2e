"""The clustering runner's queue: one row per round (deliberation/jobs/runner.py).

A round needs a new snapshot when it has vote events its newest "ok" snapshot has not seen
(derived, so a vote writes nothing here) or when ``requested_at`` is set by a change that
is not a vote (moderation, policy, phase, import). The lease says which worker computes
the round and until when; ``last_run_at`` spaces the runs of one round.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from deliberation.database import db
from deliberation.models._common import UTCDateTime


class ClusteringJob(db.Model):
    __tablename__ = "clustering_jobs"

    round_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True
    )
    # A change other than a vote asks for a run; the run that takes it over clears it.
    requested_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    lease_owner: so.Mapped[str | None] = so.mapped_column(sa.String(128))
    lease_until: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    last_run_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<ClusteringJob round={self.round_id} owner={self.lease_owner}>"
