"""Each busy round's current votes, kept in the clustering worker's memory between runs.

A refresh needs every current vote of the round. Reading a million of them from the
database takes seconds; between two refreshes a few hundred change. So the worker keeps,
per round, a dense ``int8`` participant x proposal matrix (``MISSING`` where nobody voted)
with the index maps of its rows and columns, and on each refresh applies only the vote
events it has not yet seen. The vote events say *which* (participant, proposal) pairs
changed; the values are read from the ``votes`` table in the same query, so the matrix
always holds what a full read would (re-applying a pair is harmless). Beside the
matrix, each account participant's first vote time (the coordination screen's arrival
time) is kept the same way: read once from every event, then folded in from the new
events, the earliest time winning. So are the answers people changed (the screen's
blocks of accounts that change an answer together): read once, then each new event is
compared with the answer the matrix held before it.

Which events are new. Ids come from a sequence, but on PostgreSQL they are drawn when a
transaction inserts and become visible when it commits, so an event with a smaller id can
appear after one with a larger id was read. Each read therefore starts from a *floor*:
every event with an id at or below it is known to be applied. The floor only moves up to
the largest id among the events created more than ``2 x reread_seconds`` before the read
started: an event is created (``created_at`` is set before its id is drawn) and committed
within ``reread_seconds`` -- a vote is a short transaction -- so every event whose id is
below such an event's was drawn before it and committed before the read. Events above the
floor are read again on every refresh until the floor passes them. On SQLite writers take
the database lock in turn and ids grow in commit order, so there ``reread_seconds`` is 0
and the floor is the largest id visible before the read.

Everything is read again (``forget``) after a change that is not a vote: the runner
forgets a round whose run was requested (moderation, a policy or phase change, an
import), and a worker that restarts starts empty.

Memory: one byte per participant x proposal cell of the matrix, which grows by half again
when full (so up to about 2.25 bytes per cell of the round), plus about 100 bytes per
participant and per proposal for the index maps and as much again per participant with an
account for the first vote times; 20,000 participants x 500 proposals take 10-25 MB.
``max_bytes`` caps all rounds together: the least recently used rounds are evicted to make
room, and a round larger than the cap is read in full each time. A round not refreshed for
``idle_seconds`` is evicted. One runner thread uses a cache; it is not
shared between threads.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa

from deliberation.database import db
from deliberation.engine.coordination import (
    first_vote_times,
    merge_first_votes,
    note_switches,
    switch_times,
)
from deliberation.engine.snapshots import VoteArrays, current_votes
from deliberation.models import Round, Vote, VoteEvent
from deliberation.models._common import utcnow
from deliberation.models.participation import newest_event_id

log = logging.getLogger(__name__)

MISSING = np.int8(-128)  # no vote in this cell
BYTES_PER_ID = 100  # a dict entry and its int key, per participant and per proposal
DEFAULT_MAX_BYTES = 512 * 2**20
DEFAULT_IDLE_SECONDS = 600.0
DEFAULT_REREAD_SECONDS = 60.0  # PostgreSQL; 0 on SQLite (see the module's docstring)
_GROWTH = 1.5


@dataclass
class RoundVotes:
    """One round's current votes: ``matrix[row, col]`` is participant ``participants[row]``'s
    vote on proposal ``proposals[col]``, or ``MISSING``."""

    matrix: np.ndarray
    participants: list[int] = field(default_factory=list)
    proposals: list[int] = field(default_factory=list)
    row_of: dict[int, int] = field(default_factory=dict)
    col_of: dict[int, int] = field(default_factory=dict)
    # the accounts' first vote times, and those of participants new since the round was read
    first_votes: dict[int, float] = field(default_factory=dict)
    # the answers changed: (participant, proposal) -> (answer, when), as ``switch_times``
    switches: dict[tuple[int, int], tuple[int, float]] = field(default_factory=dict)
    floor: int = 0  # every vote event with an id <= floor is applied
    identity: tuple[str, str] = ("", "")  # the database and the round's creation time
    last_used: float = 0.0

    @property
    def nbytes(self) -> int:
        return int(self.matrix.nbytes) + BYTES_PER_ID * (
            len(self.row_of) + len(self.col_of) + len(self.first_votes) + len(self.switches))

    def arrays(self) -> VoteArrays:
        n, m = len(self.participants), len(self.proposals)
        block = self.matrix[:n, :m]
        rows, cols = np.nonzero(block != MISSING)
        return (np.asarray(self.participants, dtype=np.int64)[rows],
                np.asarray(self.proposals, dtype=np.int64)[cols], block[rows, cols])

    def held_answers(self, pairs: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
        """The answers the matrix holds for these (participant, proposal) pairs, if any."""
        found = {}
        for participant, proposal in pairs:
            row, col = self.row_of.get(participant), self.col_of.get(proposal)
            if row is not None and col is not None and self.matrix[row, col] != MISSING:
                found[(participant, proposal)] = int(self.matrix[row, col])
        return found

    def set(self, participant: np.ndarray, proposal: np.ndarray, value: np.ndarray) -> None:
        """Write these cells (``MISSING`` clears one), adding rows and columns as needed."""
        rows = self._index(participant, self.row_of, self.participants)
        cols = self._index(proposal, self.col_of, self.proposals)
        need = (len(self.participants), len(self.proposals))
        have = self.matrix.shape
        if need[0] > have[0] or need[1] > have[1]:
            shape = tuple(h if n <= h else max(n, int(h * _GROWTH) + 1)
                          for n, h in zip(need, have, strict=True))
            grown = np.full(shape, MISSING, dtype=np.int8)
            grown[:have[0], :have[1]] = self.matrix
            self.matrix = grown
        self.matrix[rows, cols] = value

    @staticmethod
    def _index(ids: np.ndarray, index: dict[int, int], order: list[int]) -> np.ndarray:
        out = np.empty(len(ids), dtype=np.int64)
        for i, key in enumerate(ids.tolist()):
            position = index.get(key)
            if position is None:
                position = index[key] = len(order)
                order.append(key)
            out[i] = position
        return out


class VoteCache:
    """Rounds' current votes in memory; ``current(round_id)`` brings a round up to date."""

    def __init__(self, *, max_bytes: int = DEFAULT_MAX_BYTES,
                 idle_seconds: float = DEFAULT_IDLE_SECONDS,
                 reread_seconds: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_bytes = max_bytes
        self.idle_seconds = idle_seconds
        self.reread_seconds = reread_seconds
        self.clock = clock
        self._rounds: OrderedDict[int, RoundVotes] = OrderedDict()  # least recently used first

    def held(self) -> list[int]:
        """The ids of the rounds held in memory."""
        return list(self._rounds)

    def nbytes(self) -> int:
        return sum(votes.nbytes for votes in self._rounds.values())

    def forget(self, round_id: int) -> None:
        """Drop the round: the next ``current`` reads all of its votes."""
        self._rounds.pop(round_id, None)

    def clear(self) -> None:
        self._rounds.clear()

    def evict_idle(self) -> list[int]:
        """Drop the rounds not used for ``idle_seconds``; returns their ids."""
        cutoff = self.clock() - self.idle_seconds
        idle = [rid for rid, votes in self._rounds.items() if votes.last_used <= cutoff]
        for rid in idle:
            del self._rounds[rid]
        if idle:
            log.info("vote cache: rounds %s evicted after %.0f s idle", idle, self.idle_seconds)
        return idle

    def current(self, round_id: int) -> VoteArrays:
        """The round's current votes (participant ids, proposal ids, values), as a full read
        of the ``votes`` table would give them; in the caller's session."""
        self.evict_idle()
        identity = self._identity(round_id)
        votes = self._rounds.get(round_id)
        if votes is None or votes.identity != identity:
            votes = self._load(round_id)
            votes.identity = identity
        else:
            self._apply_new_events(round_id, votes)
            self._rounds.move_to_end(round_id)
        votes.last_used = self.clock()
        arrays = votes.arrays()
        self._keep(round_id, votes)
        return arrays

    def first_votes(self, round_id: int) -> dict[int, float] | None:
        """Each account participant's first vote time (epoch seconds) as of the last
        ``current(round_id)``; None when the round is not held (too large for the cap)."""
        votes = self._rounds.get(round_id)
        return None if votes is None else votes.first_votes

    def switches(self, round_id: int) -> dict[tuple[int, int], tuple[int, float]] | None:
        """The answers changed (``coordination.switch_times``) as of the last
        ``current(round_id)``; None when the round is not held."""
        votes = self._rounds.get(round_id)
        return None if votes is None else votes.switches

    @staticmethod
    def _identity(round_id: int) -> tuple[str, str]:
        """Tells this round from another that got the same id (another database, or a
        round deleted and created again)."""
        created = db.session.scalar(sa.select(Round.created_at).where(Round.id == round_id))
        return (db.session.get_bind().url.render_as_string(hide_password=True),
                "" if created is None else created.isoformat())

    def _margin(self) -> float:
        if self.reread_seconds is not None:
            return self.reread_seconds
        dialect = db.session.get_bind().dialect.name
        return 0.0 if dialect == "sqlite" else DEFAULT_REREAD_SECONDS

    def _floor_query(self, round_id: int) -> Callable[[], int]:
        """How to compute the round's next floor, fixed *before* the read it covers."""
        margin = self._margin()
        if margin <= 0:
            floor = newest_event_id(round_id)
            return lambda: floor
        cutoff = utcnow() - timedelta(seconds=2 * margin)
        return lambda: newest_event_id(round_id, cutoff)

    def _load(self, round_id: int) -> RoundVotes:
        next_floor = self._floor_query(round_id)
        participant, proposal, value = current_votes(round_id)
        pids = np.unique(participant)
        tids = np.unique(proposal)
        matrix = np.full((len(pids), len(tids)), MISSING, dtype=np.int8)
        matrix[np.searchsorted(pids, participant), np.searchsorted(tids, proposal)] = value
        participants, proposals = pids.tolist(), tids.tolist()
        votes = RoundVotes(
            matrix=matrix, participants=participants, proposals=proposals,
            row_of={pid: i for i, pid in enumerate(participants)},
            col_of={tid: j for j, tid in enumerate(proposals)},
            first_votes=first_vote_times(round_id),
            switches=switch_times(round_id),
        )
        votes.floor = next_floor()
        log.info("vote cache: round %s read in full (%d votes, %d bytes)", round_id,
                 len(value), votes.nbytes)
        return votes

    def _apply_new_events(self, round_id: int, votes: RoundVotes) -> None:
        next_floor = self._floor_query(round_id)
        events, current = VoteEvent.__table__, Vote.__table__
        # Each new event's standing vote, looked up by the votes' key one event at a time:
        # a handful of events against a round of a million votes. As a join, a planner
        # without statistics yet (the minute after an import, before autovacuum has
        # analysed the new rows) hashed the whole round's votes on every refresh instead.
        standing = (sa.select(current.c.value)
                    .where(current.c.round_id == events.c.round_id,
                           current.c.participant_id == events.c.participant_id,
                           current.c.proposal_id == events.c.proposal_id)
                    .scalar_subquery())
        rows = db.session.connection().execute(
            sa.select(events.c.participant_id, events.c.proposal_id,
                      sa.func.coalesce(standing, int(MISSING)), events.c.value,
                      events.c.created_at)
            .where(events.c.round_id == round_id, events.c.id > votes.floor)
            .order_by(events.c.id)).all()
        if rows:
            changed = np.array([row[:3] for row in rows], dtype=np.int64)
            self._merge_first_votes(votes, rows)
            # Events above the floor can be read again: one already applied is then no
            # change, as the matrix holds its answer.
            before = votes.held_answers({(row[0], row[1]) for row in rows})
            note_switches(votes.switches, before,
                          ((p, s, value, at, None) for p, s, _, value, at in rows))
            votes.set(changed[:, 0], changed[:, 1], changed[:, 2].astype(np.int8))
        votes.floor = max(votes.floor, next_floor())

    @staticmethod
    def _merge_first_votes(votes: RoundVotes, rows: list) -> None:
        """Fold the earliest time of each participant's events in ``rows`` (the events
        above the floor: participant, proposal, standing vote, value, created_at) into
        ``first_votes``, for the participants it holds (the accounts, read in full) and
        those new since (their first event is above the floor: it was not applied yet).
        The others voted before the round was read and have no account: the coordination
        screen never asks for them, and telling them apart would cost a query."""
        first: dict[int, datetime] = {}
        for participant_id, _, _, _, created_at in rows:
            if participant_id not in first or created_at < first[participant_id]:
                first[participant_id] = created_at
        merge_first_votes(votes.first_votes, {
            participant_id: at.timestamp() for participant_id, at in first.items()
            if participant_id in votes.first_votes or participant_id not in votes.row_of})

    def _keep(self, round_id: int, votes: RoundVotes) -> None:
        """Hold the round within ``max_bytes``, evicting the least recently used others."""
        size = votes.nbytes
        if size > self.max_bytes:
            self._rounds.pop(round_id, None)
            log.info("vote cache: round %s (%d bytes) exceeds the cap of %d bytes; "
                     "it is read in full on each refresh", round_id, size, self.max_bytes)
            return
        self._rounds[round_id] = votes
        self._rounds.move_to_end(round_id)
        while self.nbytes() > self.max_bytes:
            evicted, _ = self._rounds.popitem(last=False)
            log.info("vote cache: round %s evicted to stay within %d bytes", evicted,
                     self.max_bytes)


def from_config(config: Any) -> VoteCache:
    """A cache configured by ``CLUSTER_CACHE_MB``, ``CLUSTER_CACHE_IDLE_SECONDS`` and
    ``CLUSTER_CACHE_REREAD_SECONDS`` (empty: 60 on PostgreSQL, 0 on SQLite)."""
    reread = config.get("CLUSTER_CACHE_REREAD_SECONDS")
    return VoteCache(
        max_bytes=int(float(config.get("CLUSTER_CACHE_MB", DEFAULT_MAX_BYTES / 2**20)) * 2**20),
        idle_seconds=float(config.get("CLUSTER_CACHE_IDLE_SECONDS", DEFAULT_IDLE_SECONDS)),
        reread_seconds=None if reread in (None, "") else float(reread),
    )
