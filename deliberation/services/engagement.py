"""Figures for the engagement dashboard and the presentation view (read-only).

Days are calendar days in Asia/Tokyo. ``round_id=None`` means all rounds.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from deliberation import small_counts
from deliberation.database import db, insert_or_update
from deliberation.models import (
    ClusterSnapshot,
    Escalation,
    OfficialResponse,
    Participant,
    Proposal,
    Round,
    SnapshotGroup,
    Vote,
    VoteEvent,
    VoteTally,
)
from deliberation.models._common import utcnow
from deliberation.models.participation import newest_event_id
from deliberation.models.snapshot import latest_snapshot
from deliberation.services import moderation

KIND_ORDER = ("resident", "e_citizen", "visitor", "assisted", "unknown")


def _day(column: Any) -> Any:
    """SQL for the Asia/Tokyo calendar day of a UTC timestamp column."""
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.func.date(sa.func.timezone("Asia/Tokyo", column))
    return sa.func.date(column, "+9 hours")


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _scoped(query: Any, column: Any, round_id: int | None) -> Any:
    return query if round_id is None else query.where(column == round_id)


def _bucket(day: date, period: str) -> date:
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def _next_bucket(start: date, period: str) -> date:
    if period == "week":
        return start + timedelta(days=7)
    if period == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


def _rebucket(values: dict[date, int], period: str) -> dict[date, int]:
    out: Counter = Counter()
    for day, n in values.items():
        out[_bucket(day, period)] += n
    return dict(out)


@dataclass
class Dashboard:
    # Buckets (first day of each day/week/month; weeks start on Monday), chosen by the span
    # so that a long imported conversation still gives a readable chart.
    period: str = "day"
    days: list[date] = field(default_factory=list)
    participants_by_kind: dict[str, list[int]] = field(default_factory=dict)  # cumulative
    kind_totals: dict[str, int | None] = field(default_factory=dict)  # None: under 5
    votes_per_day: list[int] = field(default_factory=list)
    proposals_per_day: list[int] = field(default_factory=list)
    voters: int = 0
    returning: int = 0
    groups: list[tuple[int, int]] = field(default_factory=list)  # (group id, size)
    snapshot_at: datetime | None = None
    backlog: int = 0
    median_moderation: timedelta | None = None
    escalations: int = 0
    answered: int = 0
    answered_in_time: int = 0
    all_participants: int = 0

    @property
    def returning_share(self) -> float | None:
        return self.returning / self.voters if self.voters else None

    @property
    def total_participants(self) -> int:
        return self.all_participants


SETTLE = timedelta(minutes=1)


def vote_tally(round_id: int) -> dict[str, Any]:
    """The round's vote figures: ``votes_by_day`` and ``first_day`` (models/vote_tally.py).

    The stored tally covers the events up to its ``last_event_id`` and moves forward over
    the events created more than ``SETTLE`` ago, reading only those added since; newer
    events are added for this request without being stored. On PostgreSQL an event can
    commit after one with a higher id, but not a minute after it was created: the stored
    tally never moves past an event that might still be missing.
    """
    columns = (VoteTally.last_event_id, VoteTally.events, VoteTally.votes_by_day,
               VoteTally.first_day)
    row = db.session.execute(sa.select(*columns).where(VoteTally.round_id == round_id)).first()
    last, events, by_day, first_day = row if row is not None else (0, 0, {}, {})
    in_round = VoteEvent.round_id == round_id
    settled = newest_event_id(round_id, utcnow() - SETTLE)
    votes, first = Counter(by_day), dict(first_day)

    def count(after: int, upto: int | None) -> int:
        query = (sa.select(VoteEvent.participant_id, _day(VoteEvent.created_at))
                 .where(in_round, VoteEvent.id > after))
        n = 0
        for participant_id, day in db.session.execute(
                query if upto is None else query.where(VoteEvent.id <= upto)):
            day, key = _as_date(day).isoformat(), str(participant_id)
            votes[day] += 1
            n += 1
            seen = first.setdefault(key, day)
            if seen and seen != day:
                first[key] = ""  # voted on a second day: a returning voter
        return n

    if settled > last:
        events += count(last, settled)
        values = {"last_event_id": settled, "events": events, "votes_by_day": dict(votes),
                  "first_day": dict(first)}
        db.session.execute(
            insert_or_update(VoteTally).values(round_id=round_id, **values)
            .on_conflict_do_update(index_elements=[VoteTally.round_id], set_=values))
        db.session.commit()
    count(max(settled, last), None)  # the last minute's events, not stored
    return {"votes_by_day": dict(votes), "first_day": first}


def dashboard(round_id: int | None) -> Dashboard:
    d = Dashboard()
    category = sa.case((Participant.source == "assisted", "assisted"), else_=Participant.kind)
    p_day = _day(Participant.created_at)
    new_by_day: dict[date, Counter] = defaultdict(Counter)
    for day, cat, n in db.session.execute(_scoped(
        sa.select(p_day, category, sa.func.count()).group_by(p_day, category),
        Participant.round_id, round_id)):
        new_by_day[_as_date(day)][cat] += n
    round_ids = ([round_id] if round_id is not None
                 else db.session.scalars(sa.select(Round.id)).all())
    tallies = [vote_tally(rid) for rid in round_ids]
    votes: Counter = Counter()
    for tally in tallies:
        votes.update({date.fromisoformat(day): n for day, n in tally["votes_by_day"].items()})
    pr_day = _day(Proposal.created_at)
    proposals = {_as_date(day): n for day, n in db.session.execute(_scoped(
        sa.select(pr_day, sa.func.count()).where(Proposal.is_seed.is_(False)).group_by(pr_day),
        Proposal.round_id, round_id))}
    known = set(new_by_day) | set(votes) | set(proposals)
    if known:
        first, last = min(known), max(known)
        span = (last - first).days
        d.period = "day" if span <= 92 else ("week" if span <= 3 * 366 else "month")
        start = _bucket(first, d.period)
        while start <= last:
            d.days.append(start)
            start = _next_bucket(start, d.period)
    new_by_bucket: dict[date, Counter] = defaultdict(Counter)
    for day, counter in new_by_day.items():
        new_by_bucket[_bucket(day, d.period)].update(counter)
    votes = _rebucket(votes, d.period)
    proposals = _rebucket(proposals, d.period)
    running: Counter = Counter()
    series: dict[str, list[int]] = {kind: [] for kind in KIND_ORDER}
    for day in d.days:
        running.update(new_by_bucket.get(day, Counter()))
        for kind in KIND_ORDER:
            series[kind].append(running[kind])
    d.participants_by_kind = {k: v for k, v in series.items() if any(v)}
    totals: Counter = Counter()
    for counter in new_by_day.values():
        totals.update(counter)
    d.all_participants = sum(totals.values())
    d.kind_totals = {k: small_counts.cell(totals[k]) for k in KIND_ORDER if totals[k]}
    # A kind with fewer people than the minimum has no series of its own; the others
    # start at the minimum (earlier days read as "fewer than 5").
    d.participants_by_kind = {
        k: [n if small_counts.shown(n) else None for n in v]
        for k, v in d.participants_by_kind.items() if small_counts.shown(totals[k])}
    d.votes_per_day = [votes.get(day, 0) for day in d.days]
    d.proposals_per_day = [proposals.get(day, 0) for day in d.days]

    d.voters = sum(len(tally["first_day"]) for tally in tallies)
    d.returning = sum(1 for tally in tallies for day in tally["first_day"].values() if not day)

    if round_id is not None:
        snapshot = latest_snapshot(round_id)
        if snapshot is not None:
            d.snapshot_at = snapshot.created_at
            round_minimum = db.session.scalar(sa.select(Round.min_group_display)
                                              .where(Round.id == round_id))
            d.groups = [(g.group_id, g.size) for g in db.session.scalars(
                sa.select(SnapshotGroup).where(SnapshotGroup.snapshot_id == snapshot.id)
                .order_by(SnapshotGroup.group_id))
                if small_counts.shown(g.size, round_minimum)]
    d.backlog = moderation.backlog(round_id)
    d.median_moderation = moderation.median_time_to_moderate(round_id)
    escalated = _scoped(sa.select(Escalation.id).where(Escalation.withdrawn_at.is_(None)),
                        Escalation.round_id, round_id).subquery()
    d.escalations = db.session.scalar(sa.select(sa.func.count()).select_from(escalated)) or 0
    answered = sa.select(OfficialResponse.answered_at, OfficialResponse.due_at).where(
        OfficialResponse.escalation_id.in_(sa.select(escalated.c.id)),
        OfficialResponse.answered_at.is_not(None))
    rows = db.session.execute(answered).all()
    d.answered = len(rows)
    d.answered_in_time = sum(1 for answered_at, due_at in rows if answered_at <= due_at)
    return d


@dataclass
class Presentation:
    round: Round
    snapshot: ClusterSnapshot | None
    groups: list[tuple[int, int]]
    top: list[tuple[Proposal, float]]
    participants: int
    votes: int


def presentation(round_: Round, *, limit: int = 5) -> Presentation:
    """Group sizes and the top group-aware-consensus proposals of the latest snapshot."""
    snapshot = latest_snapshot(round_.id)
    groups: list[tuple[int, int]] = []
    top: list[tuple[Proposal, float]] = []
    if snapshot is not None:
        groups = [(g.group_id, g.size) for g in db.session.scalars(
            sa.select(SnapshotGroup).where(SnapshotGroup.snapshot_id == snapshot.id)
            .order_by(SnapshotGroup.group_id))
            if small_counts.shown(g.size, round_.min_group_display)]
        stats = snapshot.statistics if isinstance(snapshot.statistics, dict) else {}
        gac = stats.get("group_aware_consensus") or stats.get("gac") or {}
        scores: dict[int, float] = {}
        if isinstance(gac, dict):
            for key, value in gac.items():
                try:
                    scores[int(key)] = float(value)
                except (TypeError, ValueError):
                    continue
        if scores:
            visible = {p.id: p for p in db.session.scalars(sa.select(Proposal).where(
                Proposal.round_id == round_.id, Proposal.status == "published",
                Proposal.is_meta.is_(False), Proposal.id.in_(list(scores))))}
            ranked = sorted(((s, pid) for pid, s in scores.items() if pid in visible),
                            reverse=True)
            top = [(visible[pid], s) for s, pid in ranked[:limit]]
    # Current votes, as the results and the round's overview count them: a changed vote
    # is still one vote.
    participants = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(Vote.participant_id)))
        .where(Vote.round_id == round_.id)) or 0
    votes = db.session.scalar(sa.select(sa.func.count()).select_from(Vote)
                              .where(Vote.round_id == round_.id)) or 0
    return Presentation(round_, snapshot, groups, top, participants, votes)
