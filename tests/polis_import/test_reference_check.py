"""The bulk vote load's reference check: what the database does not check row by row (on
PostgreSQL, where the load skips the per-row foreign-key triggers), the set-based check
after the load catches before the commit."""

from __future__ import annotations

import numpy as np
import pytest

from deliberation.bulk import EpochSeconds, insert_columns, without_reference_triggers
from deliberation.interop.polis_import import check_vote_references
from deliberation.models import Vote, VoteEvent
from tests.factories import make_participant, make_proposal, make_round


def _events(round_id: int, participants: list[int], proposal_id: int) -> int:
    return insert_columns(VoteEvent.__table__, {
        "round_id": round_id, "participant_id": np.array(participants, dtype=np.int64),
        "proposal_id": proposal_id, "value": 1, "source": "import",
        "created_at": EpochSeconds(np.arange(len(participants), dtype=np.float64)),
    }, len(participants))


def test_a_vote_of_another_rounds_participant_is_caught(db) -> None:
    ours, other = make_round(), make_round()
    voter, stranger = make_participant(ours), make_participant(other)
    proposal = make_proposal(ours)
    with without_reference_triggers():
        rows = _events(ours.id, [voter.id, stranger.id], proposal.id)
    with pytest.raises(RuntimeError, match="vote_events: 1 of 2 rows"):
        check_vote_references(ours.id, {VoteEvent: rows})


def test_a_vote_of_a_missing_participant_is_caught(db) -> None:
    round_ = make_round()
    voter, proposal = make_participant(round_), make_proposal(round_)
    missing = voter.id + 1000
    with without_reference_triggers() as unchecked:
        if not unchecked:
            pytest.skip("the database checks every row itself (SQLite, or a role that "
                        "may not set session_replication_role)")
        rows = _events(round_.id, [voter.id, missing], proposal.id)
    with pytest.raises(RuntimeError, match="vote_events: 1 of 2 rows"):
        check_vote_references(round_.id, {VoteEvent: rows})


def test_references_within_the_round_pass(db) -> None:
    round_ = make_round()
    voters = [make_participant(round_).id for _ in range(3)]
    proposal = make_proposal(round_)
    with without_reference_triggers():
        rows = _events(round_.id, voters, proposal.id)
    check_vote_references(round_.id, {VoteEvent: rows, Vote: 0})
