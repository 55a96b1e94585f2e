"""The votes on a proposal by the voters' relation to the town, the rows of the "who took
part" tables: the results page counts participants by them, and an escalation freezes the
votes on its proposal by them into its evidence."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from deliberation import small_counts
from deliberation.database import db
from deliberation.models import Participant, User, Vote, VoteEvent

# Rows of the "who took part" table: residents the town verified apart from residents by
# their own word (a tick box at registration), then the others.
VERIFIED_RESIDENT = "resident_verified"
KIND_ROWS = (VERIFIED_RESIDENT, "resident", "e_citizen", "visitor", "assisted", "unknown")


def kind_row(kind: str, verification_level: str | None) -> str:
    """The table row of a participant: a verified resident whatever they declared (the
    verification says they live in the town), else the kind they declared."""
    return VERIFIED_RESIDENT if verification_level == "resident_verified" else kind


VOTE_COLUMNS = ("agree", "disagree", "passes", "total")
_VOTE_COLUMN = {1: "agree", -1: "disagree", 0: "passes"}


def votes_by_kind(round_id: int, proposal_id: int, round_minimum: int | None = None,
                  as_of: int | None = None) -> dict[str, Any]:
    """The votes on a proposal by the voters' relation to the town (the rows of the "who
    took part" table): agree, disagree, pass and total per row, counts under the minimum
    withheld (``None``) by the one small-count rule, with the cells that would give them
    away. Frozen into an escalation's evidence, so only withheld figures are stored.

    ``as_of``: count the votes as they stood after that vote event (the snapshot the
    escalation rests on saw up to it). Counted live, the table would differ from the
    snapshot's public counts by the votes cast since, which may be one person's."""
    # Who voted on the proposal after that event, asked first and as a list: almost always
    # nobody (an escalation follows its snapshot within seconds), and then one count of the
    # votes table is the answer. As a subquery instead, PostgreSQL's planner, misled by
    # statistics not yet refreshed after a bulk import, can pick a nested loop that reads
    # every event of the round once per event of the proposal (seconds per proposal at
    # vTaiwan's size); a list of ids leaves it one scan.
    late = list(db.session.scalars(
        sa.select(VoteEvent.participant_id).distinct()
        .where(VoteEvent.round_id == round_id, VoteEvent.proposal_id == proposal_id,
               VoteEvent.id > as_of))) if as_of is not None else []
    query = (
        sa.select(Participant.kind, User.verification_level, Vote.value, sa.func.count())
        .join(Participant, Participant.id == Vote.participant_id)
        .outerjoin(User, User.id == Participant.user_id)
        .where(Vote.round_id == round_id, Vote.proposal_id == proposal_id)
        .group_by(Participant.kind, User.verification_level, Vote.value)
    )
    if late:
        query = query.where(Vote.participant_id.not_in(late))
    counted = list(db.session.execute(query).tuples())
    if late:
        stood: dict[int, tuple[str, str | None, int]] = {}
        for pid, kind, level, value in db.session.execute(
                sa.select(VoteEvent.participant_id, Participant.kind, User.verification_level,
                          VoteEvent.value)
                .join(Participant, Participant.id == VoteEvent.participant_id)
                .outerjoin(User, User.id == Participant.user_id)
                .where(VoteEvent.round_id == round_id, VoteEvent.proposal_id == proposal_id,
                       VoteEvent.id <= as_of, VoteEvent.participant_id.in_(late))
                .order_by(VoteEvent.id)):
            stood[pid] = (kind, level, value)
        counted += [(kind, level, value, 1) for kind, level, value in stood.values()]
    crossing: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(VOTE_COLUMNS, 0))
    for kind, verification_level, value, n in counted:
        row = crossing[kind_row(kind, verification_level)]
        row[_VOTE_COLUMN[value]] += n
        row["total"] += n
    withheld = small_counts.table(crossing, list(VOTE_COLUMNS), round_minimum)
    order = sorted(withheld, key=lambda kind: (
        KIND_ROWS.index(kind) if kind in KIND_ROWS else len(KIND_ROWS), kind))
    return {"minimum": small_counts.minimum(round_minimum),
            "rows": [{"kind": kind, **withheld[kind]} for kind in order]}
