"""Many threads voting and changing votes on the same proposals at once.

Each thread has its own app context, hence its own session and database connection
(several connections on PostgreSQL; serialised writers with WAL + busy timeout on SQLite).
"""

from __future__ import annotations

import random
import threading
from collections import Counter

import sqlalchemy as sa
from flask import Flask

from deliberation.database import db as _db
from deliberation.models import Participant, Round, Vote, VoteEvent
from deliberation.services import votes as vote_service
from tests import factories

THREADS = 6
VOTES_PER_THREAD = 25


def test_concurrent_votes_end_consistent(app: Flask, db) -> None:
    round_ = factories.make_round(phase="voting")
    proposals = [factories.make_proposal(round_).id for _ in range(3)]
    participants = [factories.make_participant(round_, factories.make_user()).id
                    for _ in range(4)]
    round_id = round_.id
    errors: list[BaseException] = []
    successes = Counter()
    barrier = threading.Barrier(THREADS)

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        try:
            with app.app_context():
                barrier.wait()
                for _ in range(VOTES_PER_THREAD):
                    # Several threads write the same (participant, proposal) pairs.
                    participant = _db.session.get(Participant, rng.choice(participants))
                    round_obj = _db.session.get(Round, round_id)
                    vote_service.cast(round_obj, participant.user, participant,
                                      rng.choice(proposals), rng.choice(["1", "-1", "0"]))
                    successes[seed] += 1
                _db.session.remove()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sum(successes.values()) == THREADS * VOTES_PER_THREAD

    db.session.expire_all()
    votes = db.session.scalars(sa.select(Vote).where(Vote.round_id == round_id)).all()
    events = db.session.scalars(
        sa.select(VoteEvent).where(VoteEvent.round_id == round_id).order_by(VoteEvent.id)
    ).all()
    # Every change is logged, and only changes: a repeat of the standing answer is not.
    assert len(events) <= THREADS * VOTES_PER_THREAD
    last: dict[tuple[int, int], int] = {}
    for event in events:
        pair = (event.participant_id, event.proposal_id)
        assert last.get(pair) != event.value
        last[pair] = event.value
    pairs = [(v.participant_id, v.proposal_id) for v in votes]
    assert len(pairs) == len(set(pairs))  # exactly one row per participant and proposal
    assert {(v.participant_id, v.proposal_id): v.value for v in votes} == last
    for proposal_id in proposals:
        for value in (-1, 0, 1):
            from_rows = sum(1 for v in votes if v.proposal_id == proposal_id and v.value == value)
            from_log = sum(1 for (_p, q), val in last.items() if q == proposal_id and val == value)
            assert from_rows == from_log
