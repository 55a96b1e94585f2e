"""Read models for the public round pages: overviews and results from the latest snapshot.

Nothing here runs clustering: results come from the newest "ok" ClusterSnapshot only.
Groups under the small-count minimum (``small_counts``; a round may raise it with
``min_group_display``) are never shown on their own; their members are folded into
"other" so that nobody is identifiable, and the table of participants by kind and group
withholds its small cells.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from deliberation import small_counts
from deliberation.database import db
from deliberation.engine.town_relation import KIND_ROWS, kind_row
from deliberation.models import (
    ClusterSnapshot,
    Escalation,
    OfficialResponse,
    Participant,
    Proposal,
    Round,
    SnapshotGroup,
    SnapshotMembership,
    SnapshotProposalStat,
    User,
)
from deliberation.models.snapshot import latest_snapshot

MAP_SIZE = 400  # SVG viewBox side
MAP_PAD = 20
# The map's scale reaches at most this many interquartile ranges beyond the quartiles of
# the positions (Tukey's fences), so that a few far-out participants cannot squash everyone
# else into a corner; those beyond are drawn on the map's edge.
MAP_FENCE = 2.0
MAP_POINTS = 3000  # participants drawn on the map at most
GROUP_NAME_LENGTH = 24  # characters of a group's most representative proposal in its name
@dataclass
class RoundCounts:
    participants: int = 0
    proposals: int = 0
    escalated: int = 0
    answered: int = 0


def round_counts(round_ids: list[int]) -> dict[int, RoundCounts]:
    """Participants who voted or proposed, published proposals, escalations per round."""
    out = {rid: RoundCounts() for rid in round_ids}
    if not round_ids:
        return out
    # Everyone who joined the round (voted, proposed, or was imported / assisted).
    voters = db.session.execute(
        sa.select(Participant.round_id, sa.func.count())
        .where(Participant.round_id.in_(round_ids))
        .group_by(Participant.round_id)
    ).all()
    for rid, n in voters:
        out[rid].participants = n
    proposals = db.session.execute(
        sa.select(Proposal.round_id, sa.func.count())
        .where(Proposal.round_id.in_(round_ids), Proposal.status == "published")
        .group_by(Proposal.round_id)
    ).all()
    for rid, n in proposals:
        out[rid].proposals = n
    escalated = db.session.execute(
        sa.select(
            Escalation.round_id,
            sa.func.count(Escalation.id),
            sa.func.count(OfficialResponse.answered_at),
        )
        .outerjoin(OfficialResponse, OfficialResponse.escalation_id == Escalation.id)
        .where(Escalation.round_id.in_(round_ids), Escalation.withdrawn_at.is_(None))
        .group_by(Escalation.round_id)
    ).all()
    for rid, n, answered in escalated:
        out[rid].escalated = n
        out[rid].answered = answered
    return out


@dataclass
class GroupView:
    group_id: int
    label: int  # 1-based number shown to people
    size: int
    colour: int  # index into the CSS palette g0..g5
    representative: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str | None:
        """What the group stands for: its most representative proposal, shortened."""
        if not self.representative:
            return None
        return shorten(self.representative[0]["proposal"].text, GROUP_NAME_LENGTH)

    @property
    def name_direction(self) -> str | None:
        """"agree" or "disagree": how the group stands on the proposal in its name."""
        return self.representative[0]["direction"] if self.representative else None


@dataclass
class ProposalBars:
    proposal: Proposal
    overall: tuple[int, int, int]  # agree, disagree, pass
    by_group: dict[int, tuple[int, int, int]]  # visible groups only
    other: tuple[int, int, int] | None  # hidden groups folded together
    consensus: float | None = None


@dataclass
class Results:
    snapshot: ClusterSnapshot
    groups: list[GroupView]
    other_count: int  # participants in hidden groups or not clustered
    # svg x, y, colour index (None: in a group too small to show; UNPLACED: not placed yet)
    points: list[tuple[float, float, int | str | None]]
    you: tuple[float, float] | None
    you_group: int | None  # label of the participant's visible group
    consensus: list[ProposalBars]
    proposals: list[ProposalBars]
    # kind -> {group label, None (other) or "total": count, None when withheld}
    kinds: list[tuple[str, dict[int | str | None, int | None]]]
    minimum: int = small_counts.MIN_COUNT  # smallest count shown
    # other_count split: not enough votes yet to be placed, and in groups too small to show
    unplaced_count: int = 0
    small_group_count: int = 0

    @property
    def unplaced_shown(self) -> int | None:
        return small_counts.cell(self.unplaced_count, self.minimum)

    @property
    def small_group_shown(self) -> int | None:
        return small_counts.cell(self.small_group_count, self.minimum)


UNPLACED = "unplaced"  # map colour of participants with too few votes to be placed


def shorten(text: str, length: int) -> str:
    """``text`` on one line, cut to ``length`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"


def _scale(values: list[float]) -> tuple[float, float]:
    """Low end and span of the map's axis, within the fences of ``values``."""
    if not values:
        return 0.0, 1.0
    # NumPy's default percentiles; the standard library keeps NumPy out of the web process.
    q1, _median, q3 = statistics.quantiles(values, n=4, method="inclusive") \
        if len(values) > 1 else (values[0],) * 3
    iqr = q3 - q1
    lo, hi = min(values), max(values)
    if iqr > 0:
        lo, hi = max(lo, q1 - MAP_FENCE * iqr), min(hi, q3 + MAP_FENCE * iqr)
    span = hi - lo
    if span <= 0:
        return lo - 0.5, 1.0
    return lo, span


def results_for(round_: Round, participant: Participant | None = None) -> Results | None:
    snapshot = latest_snapshot(round_.id)
    if snapshot is None:
        return None
    min_size = small_counts.minimum(round_.min_group_display)
    all_groups = list(
        db.session.scalars(
            sa.select(SnapshotGroup)
            .where(SnapshotGroup.snapshot_id == snapshot.id)
            .order_by(SnapshotGroup.group_id)
        )
    )
    visible = [g for g in all_groups if g.size >= min_size]
    views: dict[int, GroupView] = {}
    for i, g in enumerate(visible):
        views[g.group_id] = GroupView(group_id=g.group_id, label=i + 1, size=g.size, colour=i % 6)

    # Who is where, counted in SQL (participant kind x group); positions are read for at
    # most MAP_POINTS participants (every k-th row), so a round of 20,000 reads a few
    # thousand rows and the document stays small.
    counted = db.session.execute(
        sa.select(Participant.kind, User.verification_level, SnapshotMembership.group_id,
                  sa.func.count())
        .join(Participant, Participant.id == SnapshotMembership.participant_id)
        .outerjoin(User, User.id == Participant.user_id)
        .where(SnapshotMembership.snapshot_id == snapshot.id)
        .group_by(Participant.kind, User.verification_level, SnapshotMembership.group_id)
    ).all()
    kinds: dict[str, dict[int | None, int]] = defaultdict(lambda: defaultdict(int))
    other_count = unplaced_count = 0
    for kind, verification_level, group_id, n in counted:
        view = views.get(group_id) if group_id is not None else None
        kinds[kind_row(kind, verification_level)][view.label if view else None] += n
        other_count += n if view is None else 0
        unplaced_count += n if group_id is None else 0
    step = max(1, -(-sum(n for *_row, n in counted) // MAP_POINTS))
    sampled = db.session.execute(
        sa.select(SnapshotMembership.x, SnapshotMembership.y, SnapshotMembership.group_id)
        .where(SnapshotMembership.snapshot_id == snapshot.id,
               SnapshotMembership.id % step == 0)
        .order_by(SnapshotMembership.id)
    ).all()
    # The scale follows the participants placed in groups: the others' positions rest on
    # too few votes to mean much, and they are drawn apart (hollow) where they fall.
    placed = [m for m in sampled if m.group_id is not None]
    x_lo, x_span = _scale([m.x for m in placed])
    y_lo, y_span = _scale([m.y for m in placed])
    inner = MAP_SIZE - 2 * MAP_PAD

    def to_svg(x: float, y: float) -> tuple[float, float]:
        fx = min(max((x - x_lo) / x_span, 0.0), 1.0)
        fy = min(max((y - y_lo) / y_span, 0.0), 1.0)
        return round(MAP_PAD + fx * inner, 1), round(MAP_PAD + (1 - fy) * inner, 1)

    points = []
    for m in sampled:
        view = views.get(m.group_id) if m.group_id is not None else None
        points.append((*to_svg(m.x, m.y), view.colour if view else
                       (UNPLACED if m.group_id is None else None)))
    # Drawn from left to right, not in the order of participant numbers: there, the dots
    # beside one's own would be those who began voting just before and after (at a
    # workshop, the neighbour who started next), and each dot shows its opinion group.
    points.sort(key=lambda point: (point[0], point[1], str(point[2])))
    you = None
    you_group = None
    mine = db.session.execute(
        sa.select(SnapshotMembership.x, SnapshotMembership.y, SnapshotMembership.group_id)
        .where(SnapshotMembership.snapshot_id == snapshot.id,
               SnapshotMembership.participant_id == participant.id)
    ).first() if participant is not None else None
    if mine is not None:
        you = to_svg(mine.x, mine.y)
        view = views.get(mine.group_id) if mine.group_id is not None else None
        you_group = view.label if view else None

    proposals = {
        p.id: p
        for p in db.session.scalars(
            sa.select(Proposal).where(Proposal.round_id == round_.id,
                                      Proposal.status == "published")
        )
    }
    stats = db.session.execute(
        sa.select(SnapshotProposalStat.proposal_id, SnapshotProposalStat.group_id,
                  SnapshotProposalStat.agree, SnapshotProposalStat.disagree,
                  SnapshotProposalStat.passes)
        .where(SnapshotProposalStat.snapshot_id == snapshot.id)
    ).all()
    statistics = snapshot.statistics or {}
    gac = statistics.get("group_aware_consensus") or {}
    bars: dict[int, ProposalBars] = {}
    for pid, gid, agree, disagree, passes in stats:
        proposal = proposals.get(pid)
        if proposal is None:
            continue
        entry = bars.get(pid)
        if entry is None:
            entry = bars[pid] = ProposalBars(proposal=proposal, overall=(0, 0, 0), by_group={},
                                             other=None, consensus=_float(gac.get(str(pid))))
        counts = (agree, disagree, passes)
        if gid is None:
            entry.overall = counts
        elif gid in views:
            entry.by_group[views[gid].label] = counts
        else:
            prev = entry.other or (0, 0, 0)
            entry.other = tuple(a + b for a, b in zip(prev, counts, strict=True))
    for entry in bars.values():
        # Never show counts of a hidden group below the display minimum on their own.
        if entry.other is not None and sum(entry.other) == 0:
            entry.other = None
    ordered = sorted(bars.values(), key=lambda b: (-b.overall[0], b.proposal.id))

    for gid_str, rows in (statistics.get("repness") or {}).items():
        try:
            view = views.get(int(gid_str))
        except (TypeError, ValueError):
            continue
        if view is None:
            continue
        for row in rows[:3]:
            pid = _int(row.get("proposal_id", row.get("tid")))
            if pid in proposals:
                view.representative.append({
                    "proposal": proposals[pid],
                    "direction": row.get("direction") or row.get("repful-for") or "agree",
                    "p_success": _float(row.get("p_success", row.get("p-success"))),
                })
    consensus = sorted(
        (b for b in bars.values() if b.consensus is not None),
        key=lambda b: -(b.consensus or 0),
    )[:5]
    columns: list[int | str | None] = [v.label for v in views.values()]
    columns += [None, "total"]
    crossing = {kind: {**counts, "total": sum(counts.values())}
                for kind, counts in kinds.items()}
    withheld = small_counts.table(crossing, columns, min_size)
    kind_rows = sorted(withheld.items(), key=lambda kv: (
        KIND_ROWS.index(kv[0]) if kv[0] in KIND_ROWS else len(KIND_ROWS), kv[0]))
    return Results(snapshot=snapshot, groups=list(views.values()), other_count=other_count,
                   points=points, you=you, you_group=you_group, consensus=consensus,
                   proposals=ordered, kinds=kind_rows, minimum=min_size,
                   unplaced_count=unplaced_count,
                   small_group_count=other_count - unplaced_count)


def _float(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def snapshot_totals(round_: Round) -> tuple[ClusterSnapshot | None, dict[int, SnapshotProposalStat]]:
    """The latest snapshot and its counts over everyone, by proposal: the public figures
    of a proposal's votes. The live votes are never shown, since counts that moved with
    each vote would tell whoever knows when someone voted how they voted."""
    snapshot = latest_snapshot(round_.id)
    if snapshot is None:
        return None, {}
    return snapshot, {stat.proposal_id: stat for stat in db.session.scalars(
        sa.select(SnapshotProposalStat).where(SnapshotProposalStat.snapshot_id == snapshot.id,
                                              SnapshotProposalStat.group_id.is_(None)))}


@dataclass
class PublishedCounts:
    """A snapshot's vote counts as anyone may see them: the groups large enough to show
    (``min_group_display``), and per group (None: everyone) the counts of published
    proposals, in proposal order."""

    groups: list[SnapshotGroup]
    counts: dict[int | None, list[SnapshotProposalStat]]


def published_counts(round_: Round, snapshot: ClusterSnapshot) -> PublishedCounts:
    published = set(db.session.scalars(sa.select(Proposal.id).where(
        Proposal.round_id == round_.id, Proposal.status == "published")))
    groups = [g for g in db.session.scalars(
        sa.select(SnapshotGroup).where(SnapshotGroup.snapshot_id == snapshot.id)
        .order_by(SnapshotGroup.group_id))
        if small_counts.shown(g.size, round_.min_group_display)]
    shown = {g.group_id for g in groups}
    counts: dict[int | None, list[SnapshotProposalStat]] = {}
    for stat in db.session.scalars(
            sa.select(SnapshotProposalStat).where(SnapshotProposalStat.snapshot_id == snapshot.id)
            .order_by(SnapshotProposalStat.proposal_id)):
        if stat.proposal_id in published and (stat.group_id is None or stat.group_id in shown):
            counts.setdefault(stat.group_id, []).append(stat)
    return PublishedCounts(groups, counts)
