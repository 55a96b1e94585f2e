"""The runner's in-memory votes: an incremental refresh stores exactly the snapshot a full
read would, after any sequence of votes, changed votes, moderation, a removed participant
and a restart; idle and oversized rounds are evicted."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
import sqlalchemy as sa

from deliberation.database import db as _db
from deliberation.engine.coordination import STATISTICS_KEY, switch_times
from deliberation.engine.snapshots import current_votes, refresh_round
from deliberation.jobs import runner
from deliberation.jobs.vote_cache import VoteCache
from deliberation.models import (
    ClusterSnapshot,
    Participant,
    Proposal,
    Round,
    SnapshotGroup,
    SnapshotMembership,
    SnapshotProposalStat,
    Vote,
    VoteEvent,
    utcnow,
)
from deliberation.services.moderation import moderate
from deliberation.services.snapshot_requests import request_snapshot
from deliberation.services.votes import record_vote
from tests import factories


def _stored(snapshot: ClusterSnapshot) -> dict:
    """Everything a snapshot stores that follows from the votes (not its id or timing)."""
    sid = snapshot.id

    def rows(model, *columns):
        return _db.session.execute(sa.select(*columns).where(model.snapshot_id == sid)
                                   .order_by(*columns)).all()

    return {
        "k": snapshot.k, "n_votes": snapshot.n_votes, "input": snapshot.input_hash,
        "n_clustered": snapshot.n_clustered, "statistics": snapshot.statistics,
        "warm_start": snapshot.warm_start,
        "groups": rows(SnapshotGroup, SnapshotGroup.group_id, SnapshotGroup.size,
                       SnapshotGroup.center_x, SnapshotGroup.center_y),
        "members": rows(SnapshotMembership, SnapshotMembership.participant_id,
                        SnapshotMembership.x, SnapshotMembership.y,
                        SnapshotMembership.group_id),
        "counts": rows(SnapshotProposalStat, SnapshotProposalStat.proposal_id,
                       sa.func.coalesce(SnapshotProposalStat.group_id, -1),
                       SnapshotProposalStat.agree, SnapshotProposalStat.disagree,
                       SnapshotProposalStat.passes),
    }


def _sorted(arrays) -> list[tuple[int, int, int]]:
    return sorted(zip(*(np.asarray(a).tolist() for a in arrays), strict=True))


class Town:
    """A round whose residents vote at random (two camps, so there are groups); a third of
    them with accounts, whom the coordination screen looks at."""

    def __init__(self, seed: int, n: int = 40, m: int = 12) -> None:
        self.rng = np.random.default_rng(seed)
        self.round = factories.make_round(phase="voting")
        self.participants: list[Participant] = []
        self.proposals = [factories.make_proposal(self.round) for _ in range(m)]
        self.arrive(n)

    def arrive(self, count: int) -> None:
        for _ in range(count):
            user = factories.make_user() if len(self.participants) % 3 == 0 else None
            self.participants.append(factories.make_participant(self.round, user))

    def votes(self, count: int, *, new_people: int = 0) -> None:
        self.arrive(new_people)
        round_ = _db.session.get(Round, self.round.id)
        published = [p for p in self.proposals if p.status == "published"]
        for _ in range(count):
            i = int(self.rng.integers(len(self.participants)))
            proposal = published[int(self.rng.integers(len(published)))]
            camp = 1 if i % 2 else -1
            side = 1 if self.proposals.index(proposal) % 2 else -1
            value = int(camp * side) if self.rng.random() < 0.8 else \
                int(self.rng.integers(-1, 2))
            record_vote(round_, self.participants[i], proposal.id, value, "web")
        _db.session.commit()


def _same_as_cold(round_id: int, cache: VoteCache) -> None:
    incremental = refresh_round(round_id, votes=cache)
    assert incremental is not None and incremental.status == "ok"
    cold = refresh_round(round_id)
    assert _stored(incremental) == _stored(cold)
    assert _sorted(cache.current(round_id)) == _sorted(current_votes(round_id))


@pytest.mark.slow  # clusters the round after each of many vote batches
@pytest.mark.parametrize("seed", [1, 2])
def test_incremental_refresh_equals_a_cold_one(db, seed):
    town = Town(seed)
    town.votes(300)
    cache = VoteCache()
    _same_as_cold(town.round.id, cache)
    for step in range(6):
        # new votes, changed votes (the same pairs again), newcomers, a new proposal
        town.votes(int(town.rng.integers(1, 80)), new_people=step % 3)
        if step == 1:
            town.proposals.append(factories.make_proposal(town.round))
        if step == 2:  # moderation, without telling the cache
            moderate(town.round, [town.proposals[3].id], "reject", actor=None,
                     reason="off topic")
        if step == 3:
            moderate(town.round, [town.proposals[3].id], "restore", actor=None)
        if step == 4:
            cache = VoteCache()  # the worker restarted
        _same_as_cold(town.round.id, cache)
        assert cache.held() == [town.round.id]


def test_the_runner_reads_everything_again_after_a_request(db):
    """A change that is not a vote (here a participant removed with their votes) comes with
    a request; the runner's next snapshot counts exactly the remaining votes."""
    town = Town(3)
    town.votes(200)
    rid = town.round.id
    assert runner.run_once(min_interval=0) == [rid]  # reads everything
    town.votes(30)
    assert runner.run_once(min_interval=0) == [rid]  # applies the new events
    gone = town.participants[1]
    for model in (VoteEvent, Vote):
        _db.session.execute(sa.delete(model).where(model.participant_id == gone.id))
    request_snapshot(_db.session.get(Round, rid))
    _db.session.commit()
    assert runner.run_once(min_interval=0) == [rid]
    latest = _db.session.scalar(sa.select(ClusterSnapshot).where(ClusterSnapshot.round_id == rid)
                                .order_by(ClusterSnapshot.id.desc()).limit(1))
    assert gone.id not in {row[0] for row in _stored(latest)["members"]}
    assert _stored(latest) == _stored(refresh_round(rid))


def test_first_votes_kept_in_memory_find_the_same_blocks(db):
    """The coordination screen's arrival times come from the cache's first vote times:
    accounts created weeks apart that first vote in the same minute, identically, form a
    block; accounts that first voted weeks ago and now vote the same way do not (their
    first vote stays the earliest), exactly as a full read finds."""
    round_ = factories.make_round(phase="voting")
    proposals = [factories.make_proposal(round_) for _ in range(8)]
    script = [1 if j % 3 else -1 for j in range(len(proposals))]
    now = utcnow()
    veterans = []
    for i in range(6):  # registered and voted weeks ago, each on a different day
        user = factories.make_user(created_at=now - timedelta(days=40 + 3 * i))
        veterans.append(factories.make_participant(round_, user))
        voted = now - timedelta(days=20 + i)
        for j, proposal in enumerate(proposals):
            value = -script[j] if (i + j) % 2 else script[j]
            _db.session.add(Vote(round_id=round_.id, participant_id=veterans[-1].id,
                                 proposal_id=proposal.id, value=value, created_at=voted,
                                 updated_at=voted))
            _db.session.add(VoteEvent(round_id=round_.id, participant_id=veterans[-1].id,
                                      proposal_id=proposal.id, value=value, source="web",
                                      created_at=voted))
    _db.session.commit()
    cache = VoteCache()
    assert refresh_round(round_.id, votes=cache).statistics[STATISTICS_KEY] == []
    bots = [factories.make_participant(
        round_, factories.make_user(created_at=now - timedelta(days=1 + 3 * i)))
        for i in range(6)]
    for participant in bots + veterans:  # the veterans now vote like the bots
        for value, proposal in zip(script, proposals, strict=True):
            record_vote(_db.session.get(Round, round_.id), participant, proposal.id, value, "web")
    _db.session.commit()
    incremental = refresh_round(round_.id, votes=cache)
    blocks = incremental.statistics[STATISTICS_KEY]
    assert [sorted(block["participant_ids"]) for block in blocks] == [
        sorted(bot.id for bot in bots)]
    assert _stored(incremental) == _stored(refresh_round(round_.id))


@pytest.mark.postgres_only
def test_an_event_committed_after_a_newer_one_is_not_lost(app, db):
    """On PostgreSQL ids are drawn at insert and seen at commit: a vote whose transaction
    drew its id first but committed last must still reach the matrix."""
    if _db.engine.dialect.name != "postgresql":
        pytest.skip("out-of-order commits: PostgreSQL only")
    town = Town(4)
    town.votes(100)
    rid = town.round.id
    cache = VoteCache()
    _same_as_cold(rid, cache)
    # a voter the random votes never pick, so the slow transaction holds no lock they need
    slow_voter, proposal = factories.make_participant(town.round), town.proposals[5]
    slow = _db.engine.connect()
    try:
        with slow.begin():
            slow.execute(sa.text(
                "INSERT INTO votes (round_id, participant_id, proposal_id, value, created_at, "
                "updated_at) VALUES (:r, :p, :q, 1, now(), now())"),
                {"r": rid, "p": slow_voter.id, "q": proposal.id})
            slow.execute(sa.text(
                "INSERT INTO vote_events (round_id, participant_id, proposal_id, value, source, "
                "created_at) VALUES (:r, :p, :q, 1, 'web', now())"),
                {"r": rid, "p": slow_voter.id, "q": proposal.id})
            town.votes(20)  # newer ids, committed first
            refresh_round(rid, votes=cache)  # sees the newer events, not the slow one
        # the slow transaction commits here
        _same_as_cold(rid, cache)
    finally:
        slow.close()


def test_idle_rounds_are_evicted(db):
    now = [0.0]
    cache = VoteCache(idle_seconds=600, clock=lambda: now[0])
    first, second = Town(5, n=10, m=4), Town(6, n=10, m=4)
    for town in (first, second):
        town.votes(30)
    cache.current(first.round.id)
    now[0] = 300.0
    cache.current(second.round.id)
    assert cache.held() == [first.round.id, second.round.id]
    now[0] = 700.0  # the first round has been idle for 700 s, the second for 400 s
    assert cache.evict_idle() == [first.round.id]
    assert cache.held() == [second.round.id]
    first.votes(10)
    assert _sorted(cache.current(first.round.id)) == _sorted(current_votes(first.round.id))


def test_memory_is_capped_across_rounds(db):
    small, other, big = Town(7, n=10, m=4), Town(8, n=10, m=4), Town(9, n=60, m=12)
    for town in (small, other, big):
        town.votes(40)
    probe = VoteCache()
    probe.current(small.round.id)
    one_round = probe.nbytes()
    cache = VoteCache(max_bytes=one_round + one_round // 2)
    cache.current(small.round.id)
    cache.current(other.round.id)  # no room for both: the least recently used goes
    assert cache.held() == [other.round.id]
    assert cache.nbytes() <= cache.max_bytes
    # a round larger than the cap is read in full each time, and still right
    assert _sorted(cache.current(big.round.id)) == _sorted(current_votes(big.round.id))
    assert big.round.id not in cache.held()


def test_bytes_per_cell_as_documented(db):
    """At most about 2.25 bytes per participant x proposal cell (the matrix grows by half
    again in each direction), plus 100 bytes per participant and per proposal, and 100 per
    participant with an account."""
    town = Town(10, n=30, m=8)
    town.votes(100)
    cache = VoteCache()
    cache.current(town.round.id)
    for _ in range(5):
        town.votes(20, new_people=7)
        town.proposals.append(factories.make_proposal(town.round))
        town.votes(5)
        cache.current(town.round.id)
        n = _db.session.scalar(sa.select(sa.func.count(sa.distinct(Participant.id)))
                               .where(Participant.round_id == town.round.id))
        m = _db.session.scalar(sa.select(sa.func.count()).select_from(Proposal)
                               .where(Proposal.round_id == town.round.id))
        accounts = _db.session.scalar(sa.select(sa.func.count()).select_from(Participant)
                                      .where(Participant.round_id == town.round.id,
                                             Participant.source == "account"))
        assert cache.nbytes() <= 2.25 * (n + 1) * (m + 1) + 100 * (n + m + accounts)


def test_current_votes_are_the_rounds_rows(db):
    """The one-row-per-participant read gives exactly the round's votes (every value, a
    participant with one vote and one with many), none of another round's, and nothing
    for a round without votes."""
    town = Town(5, n=9, m=7)
    town.votes(60)
    other = Town(6, n=3, m=2)
    other.votes(5)
    lone = factories.make_participant(town.round)
    record_vote(_db.session.get(Round, town.round.id), lone, town.proposals[0].id, 0, "web")
    _db.session.commit()
    rows = _db.session.execute(
        sa.select(Vote.participant_id, Vote.proposal_id, Vote.value)
        .where(Vote.round_id == town.round.id)).all()
    read = current_votes(town.round.id)
    assert _sorted(read) == sorted(tuple(row) for row in rows)
    assert {value for *_, value in rows} == {-1, 0, 1}
    assert [a.dtype for a in read] == [np.int64, np.int64, np.int8]
    empty = factories.make_round(phase="voting")
    assert [len(a) for a in current_votes(empty.id)] == [0, 0, 0]


@pytest.mark.parametrize("reread_seconds", [None, 3600.0])
def test_changed_answers_kept_in_memory_are_a_full_reads(db, reread_seconds):
    """The answers people changed, followed event by event, are what a full read of the
    events finds: also when every event is read again on each refresh (a margin longer
    than the round), and when someone votes and changes their answer between two
    refreshes."""
    town = Town(4)
    town.votes(150)
    rid = town.round.id
    cache = VoteCache(reread_seconds=reread_seconds)
    cache.current(rid)
    for _ in range(4):
        town.votes(60, new_people=2)  # the random votes change some answers
        newcomer = town.participants[-1]
        for value in (1, -1):
            record_vote(_db.session.get(Round, rid), newcomer, town.proposals[0].id, value,
                        "web")
        _db.session.commit()
        cache.current(rid)
        kept = cache.switches(rid)
        assert kept == switch_times(rid)
        assert kept[(newcomer.id, town.proposals[0].id)][0] == -1
    assert len(kept) > 20
