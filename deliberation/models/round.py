"""Deliberation rounds (a Pol.is "conversation")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from deliberation import small_counts
from deliberation.database import db
from deliberation.engine.threshold import DEFAULT_POLICY
from deliberation.models._common import UTCDateTime, one_of, utcnow

PHASES = ("draft", "collecting", "voting", "reflection", "closed")
PHASES_ACCEPTING_PROPOSALS = ("collecting",)
PHASES_ACCEPTING_VOTES = ("collecting", "voting")
MODERATION_MODES = ("strict", "open")
ELIGIBILITY = ("everyone", "residents", "verified")
CLUSTERING_METHODS = ("pca", "umap")

DEFAULT_THRESHOLD_POLICY: dict[str, Any] = DEFAULT_POLICY  # one source: the engine


class Round(db.Model):
    __tablename__ = "rounds"
    __table_args__ = (
        sa.CheckConstraint(one_of("phase", PHASES), name="phase"),
        sa.CheckConstraint(one_of("moderation_mode", MODERATION_MODES), name="moderation_mode"),
        sa.CheckConstraint(one_of("eligibility", ELIGIBILITY), name="eligibility"),
        sa.CheckConstraint(one_of("clustering_method", CLUSTERING_METHODS), name="method"),
        sa.CheckConstraint("max_groups BETWEEN 2 AND 12", name="max_groups"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    summary: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")  # Markdown
    background_links: so.Mapped[list[dict[str, str]]] = so.mapped_column(sa.JSON, default=list)
    phase: so.Mapped[str] = so.mapped_column(sa.String(16), default="draft")
    opens_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    closes_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    moderation_mode: so.Mapped[str] = so.mapped_column(sa.String(16), default="open")
    eligibility: so.Mapped[str] = so.mapped_column(sa.String(16), default="everyone")
    clustering_method: so.Mapped[str] = so.mapped_column(sa.String(8), default="pca")
    max_groups: so.Mapped[int] = so.mapped_column(default=5)
    threshold_policy: so.Mapped[dict[str, Any]] = so.mapped_column(
        sa.JSON, default=lambda: dict(DEFAULT_THRESHOLD_POLICY)
    )
    report_threshold: so.Mapped[int] = so.mapped_column(default=3)
    # Reports that can hide a proposal for review: only from confirmed accounts, and (when
    # set) only from people who have voted in the round; and one more report is needed per
    # ``report_support_step`` agree votes (0: the threshold does not grow), so a handful of
    # new accounts cannot bury a proposal many people support (deliberation/services/reports.py).
    reports_need_participation: so.Mapped[bool] = so.mapped_column(default=True,
                                                                   server_default=sa.true())
    report_support_step: so.Mapped[int] = so.mapped_column(default=10, server_default="10")
    min_group_display: so.Mapped[int] = so.mapped_column(default=small_counts.MIN_COUNT)
    response_deadline_days: so.Mapped[int] = so.mapped_column(default=60)
    open_data_enabled: so.Mapped[bool] = so.mapped_column(default=False)
    # The newest vote event when the open data was first built for the public: the votes
    # up to it are all in every export, later ones (a reopened round) only in stretches
    # of enough voters (deliberation/interop/polis_export.py: ``published_cut``).
    open_data_until: so.Mapped[int | None] = so.mapped_column(sa.BigInteger)
    # Nothing escalates automatically until a facilitator has seen the preview of what
    # would escalate and confirmed it (new rounds and Pol.is imports start disarmed).
    escalation_armed: so.Mapped[bool] = so.mapped_column(default=False,
                                                         server_default=sa.false())
    source: so.Mapped[str] = so.mapped_column(sa.String(16), default="native")  # native | polis
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow
    )

    @property
    def policy(self) -> dict[str, Any]:
        return {**DEFAULT_THRESHOLD_POLICY, **(self.threshold_policy or {})}

    @property
    def past_closing(self) -> bool:
        """The published closing time has passed. Voting ends then, whether or not a
        facilitator has closed the round yet: every vote that counts was cast before the
        deadline everyone was told."""
        return self.closes_at is not None and self.closes_at <= utcnow()

    @property
    def accepts_proposals(self) -> bool:
        return self.phase in PHASES_ACCEPTING_PROPOSALS and not self.past_closing

    @property
    def accepts_votes(self) -> bool:
        return self.phase in PHASES_ACCEPTING_VOTES and not self.past_closing

    @property
    def open_data_published(self) -> bool:
        """The open-data export is public once the round takes no more votes: one file
        that no vote changes, since two downloads around someone's vote would differ in
        that person's row only, their whole ballot."""
        return self.open_data_enabled and self.is_public and not self.accepts_votes

    @property
    def is_public(self) -> bool:
        return self.phase != "draft"

    def __repr__(self) -> str:
        return f"<Round {self.slug} {self.phase}>"
