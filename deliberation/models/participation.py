"""Who takes part in a round, what they propose and how they vote.

A ``Participant`` is one person in one round (Pol.is's per-conversation ``pid``). It
points at an account when there is one; assisted participants (votes gathered on paper)
and imported Pol.is voters have none. Deleting an account clears ``user_id`` and keeps
the participant, so votes stay in the statistics under an anonymous id.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from deliberation.database import db
from deliberation.models._common import UTCDateTime, equals_any, one_of, utcnow
from deliberation.models.search_index import register as register_search_index

if TYPE_CHECKING:  # for the annotations only: the mapper finds the classes by name
    from deliberation.models.round import Round
    from deliberation.models.user import User

PARTICIPANT_SOURCES = ("account", "assisted", "import")
PARTICIPANT_KINDS = ("resident", "e_citizen", "visitor", "unknown")
PROPOSAL_STATUSES = ("pending", "published", "rejected", "hidden")
VOTE_VALUES = (-1, 0, 1)
VOTE_SOURCES = ("web", "api", "assisted", "import")
VOTE_VALUES = (-1, 0, 1)


class Participant(db.Model):
    __tablename__ = "participants"
    __table_args__ = (
        sa.UniqueConstraint("round_id", "user_id"),
        sa.UniqueConstraint("round_id", "external_id"),
        # Assisted participants are told apart by their label alone (the list, the audit
        # log); the others have none, and NULLs never collide.
        sa.UniqueConstraint("round_id", "label"),
        # One person takes part once in a round for verified residents (see person_key).
        sa.UniqueConstraint("round_id", "person_key"),
        # What a vote's (round_id, participant_id) refers to, so that a vote always
        # belongs to its participant's round; it also serves every lookup by round. A
        # unique index rather than a constraint: both databases accept either as the
        # target of a reference, and SQLite adds an index without rebuilding the table.
        sa.Index("ix_participants_round_id_id", "round_id", "id", unique=True),
        sa.CheckConstraint(one_of("source", PARTICIPANT_SOURCES), name="source"),
        sa.CheckConstraint(one_of("kind", PARTICIPANT_KINDS), name="kind"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    round_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("rounds.id", ondelete="CASCADE"))
    user_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    source: so.Mapped[str] = so.mapped_column(sa.String(16), default="account")
    kind: so.Mapped[str] = so.mapped_column(sa.String(16), default="unknown")
    external_id: so.Mapped[str | None] = so.mapped_column(sa.String(64))  # Pol.is pid
    label: so.Mapped[str | None] = so.mapped_column(sa.String(80))  # assisted: a workshop tag
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    # When the account was made, kept here once the account is deleted (``user_id`` NULL):
    # the coordination screen links accounts made in a burst, and deleting them must not
    # erase that evidence. Nothing about who the person was.
    account_created_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    # In a round for verified residents: a hash of the verified person (users.verified_person)
    # with the round, keyed with the app's secret, kept when the account is deleted or its verification revoked, so
    # that the person, free to verify another account, does not take part twice while the
    # first account's votes still count. Another in each round: it ties no two rounds.
    person_key: so.Mapped[str | None] = so.mapped_column(sa.String(64))

    round: so.Mapped[Round] = so.relationship()
    user: so.Mapped[User | None] = so.relationship()

    @property
    def is_assisted(self) -> bool:
        return self.source == "assisted"


class Proposal(db.Model):
    __tablename__ = "proposals"
    __table_args__ = (
        sa.UniqueConstraint("round_id", "external_id"),
        # What a vote's (round_id, proposal_id) refers to (see Participant).
        sa.Index("ix_proposals_round_id_id", "round_id", "id", unique=True),
        sa.CheckConstraint(one_of("status", PROPOSAL_STATUSES), name="status"),
        sa.Index("ix_proposals_round_status", "round_id", "status"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    round_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("rounds.id", ondelete="CASCADE"))
    author_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("participants.id", ondelete="SET NULL")
    )
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    # Normalised text (NFKC, case-folded, whitespace collapsed) for duplicate detection.
    text_key: so.Mapped[str] = so.mapped_column(sa.String(512), index=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="published")
    is_seed: so.Mapped[bool] = so.mapped_column(default=False)
    is_meta: so.Mapped[bool] = so.mapped_column(default=False)
    external_id: so.Mapped[str | None] = so.mapped_column(sa.String(64))  # Pol.is comment-id
    rejection_reason: so.Mapped[str | None] = so.mapped_column(sa.Text)
    report_count: so.Mapped[int] = so.mapped_column(default=0)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    moderated_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    moderated_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    round: so.Mapped[Round] = so.relationship()
    author: so.Mapped[Participant | None] = so.relationship()

    @property
    def is_visible(self) -> bool:
        return self.status == "published"


register_search_index(Proposal.__table__)


class Vote(db.Model):
    """The current vote of a participant on a proposal (last change wins).

    Keyed by (round, participant, proposal): one vote per participant and proposal, and
    one index for the two ways votes are read, a participant's votes (the vote upsert's
    conflict target, the vote card, the cascade of a participant's deletion: every such
    query names the round too) and a round's votes (the clustering's input, tallies). A
    second index by round cost a bulk load about a third more of the database's CPU
    (bench/README.md). Participant before proposal, the order in which a Pol.is import
    writes a round's votes, so a load grows the key at its right end. Reads of one
    proposal's votes scan the round's part of the key; an index by proposal would cost a
    load as much again. They run when a proposal is escalated, reported or taken down,
    not on page views.

    The key holds the value too, so a round's votes are read from the key alone: on
    PostgreSQL as an included column (a load costs the same), on SQLite because the table
    is ``WITHOUT ROWID`` (the rows live in the key's own B-tree). A batch migration that
    rebuilds this table on SQLite must pass ``table_kwargs={"sqlite_with_rowid": False}``.
    The references to the participant and the proposal include the round, so that a
    vote always belongs to their round and their deletion's cascade uses the key."""

    __tablename__ = "votes"
    __table_args__ = (
        sa.CheckConstraint(equals_any("value", VOTE_VALUES), name="value"),
        sa.PrimaryKeyConstraint("round_id", "participant_id", "proposal_id",
                                postgresql_include=["value"]),
        sa.ForeignKeyConstraint(["round_id", "participant_id"],
                                ["participants.round_id", "participants.id"],
                                ondelete="CASCADE", name="fk_votes_participant"),
        sa.ForeignKeyConstraint(["round_id", "proposal_id"],
                                ["proposals.round_id", "proposals.id"],
                                ondelete="CASCADE", name="fk_votes_proposal"),
        {"sqlite_with_rowid": False},
    )

    round_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("rounds.id", ondelete="CASCADE"))
    participant_id: so.Mapped[int]
    proposal_id: so.Mapped[int]
    value: so.Mapped[int] = so.mapped_column(sa.SmallInteger)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)


class VoteEvent(db.Model):
    """Append-only log of every vote cast or changed (audit and Pol.is votes.csv)."""

    __tablename__ = "vote_events"
    __table_args__ = (
        sa.CheckConstraint(equals_any("value", VOTE_VALUES), name="value"),
        sa.CheckConstraint(equals_any("source", VOTE_SOURCES), name="source"),
        # A round's events, and "has the round events newer than its snapshot?" (the
        # clustering runner, every pass) as one step down the index.
        sa.Index("ix_vote_events_round_id", "round_id", "id"),
    )

    id: so.Mapped[int] = so.mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                          primary_key=True)
    round_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("rounds.id", ondelete="CASCADE"))
    participant_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("participants.id", ondelete="CASCADE")
    )
    proposal_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE")
    )
    value: so.Mapped[int] = so.mapped_column(sa.SmallInteger)
    source: so.Mapped[str] = so.mapped_column(sa.String(16), default="web")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)


def newest_event_id(round_id: int, created_before: datetime | None = None) -> int:
    """The id of the round's newest vote event (created before ``created_before``), 0 if none.

    Readers that follow the events (the worker's vote cache, the dashboard's tally) move
    forward only over events created some margin ago: on PostgreSQL an id is drawn when a
    transaction inserts and becomes visible when it commits, so an event with a smaller id
    can appear after one with a larger id was read, but its transaction, a short vote,
    has committed within that margin of its ``created_at``.
    """
    # Newest first down the (round_id, id) index: it stops at the first event old enough
    # (a MAX() with the created_at filter reads every event of the round on SQLite).
    query = (sa.select(VoteEvent.id).where(VoteEvent.round_id == round_id)
             .order_by(VoteEvent.id.desc()).limit(1))
    if created_before is not None:
        query = query.where(VoteEvent.created_at < created_before)
    return db.session.scalar(query) or 0


class Report(db.Model):
    """A participant's report that a proposal breaks the rules."""

    __tablename__ = "reports"
    __table_args__ = (sa.UniqueConstraint("proposal_id", "reporter_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    proposal_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    reporter_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    reason: so.Mapped[str] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    resolution: so.Mapped[str | None] = so.mapped_column(sa.String(16))  # upheld | dismissed

    proposal: so.Mapped[Proposal] = so.relationship()
