"""A facilitator's upload of a Pol.is export, imported by the background worker.

The upload is stored under the instance folder and queued here; a worker claims the row
(``stage`` queued -> reading), reads the files, writes the round in one transaction and
records the outcome. ``error`` holds the failure as the message pieces that
``app.errors.translate_parts`` shows in the reader's language (file, line and column
included), never as English text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from deliberation.database import db
from deliberation.models._common import UTCDateTime, one_of, utcnow

IMPORT_STAGES = ("queued", "reading", "writing", "done", "failed")
UNFINISHED = "stage IN ('queued', 'reading', 'writing')"


class ImportJob(db.Model):
    __tablename__ = "import_jobs"
    __table_args__ = (
        sa.CheckConstraint(one_of("stage", IMPORT_STAGES), name="stage"),
        sa.Index("ix_import_jobs_stage_id", "stage", "id"),
        # One unfinished import per address: the same upload sent twice at once (a double
        # click) passes the "address free" check twice, and this decides.
        sa.Index("ux_import_jobs_unfinished_slug", "slug", unique=True,
                 postgresql_where=sa.text(UNFINISHED), sqlite_where=sa.text(UNFINISHED)),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    created_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # What the new round will be.
    slug: so.Mapped[str] = so.mapped_column(sa.String(64))
    title: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    round_phase: so.Mapped[str] = so.mapped_column(sa.String(16))
    stage: so.Mapped[str] = so.mapped_column(sa.String(16), default="queued")
    rows_read: so.Mapped[int] = so.mapped_column(default=0)  # rows of votes.csv
    rows_total: so.Mapped[int] = so.mapped_column(default=0)  # vote rows to write
    rows_written: so.Mapped[int] = so.mapped_column(default=0)
    error: so.Mapped[list[Any] | None] = so.mapped_column(sa.JSON)
    round_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("rounds.id", ondelete="SET NULL"))
    lease_owner: so.Mapped[str | None] = so.mapped_column(sa.String(128))
    # A worker that dies while importing leaves its job here; once this passes, the next
    # worker marks the job failed (the import's transaction left nothing behind).
    lease_until: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    started_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    finished_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    @property
    def finished(self) -> bool:
        return self.stage in ("done", "failed")

    def __repr__(self) -> str:
        return f"<ImportJob {self.id} {self.slug} {self.stage}>"
