"""The voting card: which proposal a participant sees next (Pol.is-style routing)."""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from deliberation.database import db
from deliberation.models import ClusterSnapshot, Participant, Proposal, Round, Vote
from deliberation.models.snapshot import newest_ok_snapshot

# Pol.is gives comments that arrived after the last clustering run a high priority so
# that they collect votes quickly; we multiply their weight by this factor.
NEW_PROPOSAL_BOOST = 3.0
# The card's pick when no generator is given: unpredictable, never seeded alike in forked
# web processes, and safe to share between threads (it keeps no state).
_SYSTEM_RANDOM = random.SystemRandom()
DEFAULT_PRIORITY = 1.0


def _latest_snapshot_column(column: Any) -> Any:
    return newest_ok_snapshot(column, round_id=sa.bindparam("round_id")).scalar_subquery()


# Every published proposal of the round with "already voted" (anonymous readers pass
# participant_id None: the join then matches nothing), "is_new" (created after the latest
# snapshot; NULL without one), the text of the unvoted ones (the pick's text, so no second
# query) and the latest snapshot's id and time (as text: it only keys the weights cache).
_SNAPSHOT_TIME = _latest_snapshot_column(ClusterSnapshot.created_at)
_VOTED = Vote.value.is_not(None)
_CARD_ROWS = (
    sa.select(Proposal.id, _VOTED.label("voted"),
              (Proposal.created_at > _SNAPSHOT_TIME).label("is_new"),
              sa.case((sa.not_(_VOTED), Proposal.text)).label("text"),
              _latest_snapshot_column(ClusterSnapshot.id).label("snapshot_id"),
              sa.cast(_SNAPSHOT_TIME, sa.String).label("snapshot_time"))
    .outerjoin(Vote, sa.and_(Vote.round_id == Proposal.round_id,
                             Vote.participant_id == sa.bindparam("participant_id"),
                             Vote.proposal_id == Proposal.id))
    .where(Proposal.round_id == sa.bindparam("round_id"), Proposal.status == "published")
    .order_by(Proposal.id)
)


@dataclass(frozen=True)
class CardProposal:
    """The proposal on the voting card: what the card shows of it."""

    id: int
    text: str


@dataclass(frozen=True)
class VoteCard:
    """What the voting card shows: the next proposal (None when all are voted), how many
    of the round's published proposals the participant has voted on, and how many are
    left to vote on (the one on the card included)."""

    proposal: CardProposal | None
    voted: int
    remaining: int = 0


def vote_card(
    round_: Round, participant: Participant | None, *, rng: random.Random | None = None
) -> VoteCard:
    """Pol.is-style routing: a weighted random pick among unvoted published proposals.

    Weights come from the latest snapshot's ``statistics["priorities"]`` (keyed by the
    proposal id as a string); proposals without a priority get 1, and proposals newer
    than the snapshot are boosted so that they collect votes quickly.
    """
    rows = db.session.execute(_CARD_ROWS, {
        "round_id": round_.id, "participant_id": participant.id if participant else None,
    }).all()
    if not rows:
        return VoteCard(None, 0)
    weight_of = _snapshot_weights(round_.id, rows[0].snapshot_id, rows[0].snapshot_time)
    candidates, weights, texts = [], [], {}
    for proposal_id, voted, is_new, text, _snapshot_id, _snapshot_time in rows:
        if voted:
            continue
        weight = weight_of.get(proposal_id, DEFAULT_PRIORITY)
        if is_new:
            weight = max(weight, DEFAULT_PRIORITY) * NEW_PROPOSAL_BOOST
        candidates.append(proposal_id)
        weights.append(weight)
        texts[proposal_id] = text
    voted_count = len(rows) - len(candidates)
    if not candidates:
        return VoteCard(None, voted_count)
    rng = rng or _SYSTEM_RANDOM
    if sum(weights) <= 0:
        chosen = rng.choice(candidates)
    else:
        chosen = rng.choices(candidates, weights=weights, k=1)[0]
    return VoteCard(CardProposal(chosen, texts[chosen]), voted_count, len(candidates))


def _snapshot_weights(
    round_id: int, snapshot_id: int | None, created_at: str | None
) -> dict[int, float]:
    """Routing weight per proposal id from a snapshot's priorities ({} without one)."""
    if snapshot_id is None or created_at is None:
        return {}
    return _cached_snapshot_weights(snapshot_id, round_id, created_at)


@functools.lru_cache(maxsize=64)
def _cached_snapshot_weights(snapshot_id: int, round_id: int, created_at: str) -> dict[int, float]:
    """Snapshots never change once written, so the vote card reads and checks a snapshot's
    JSON once, not on every vote. Round and time are part of the key because ids
    can be reused after a database reset; lru_cache is safe across gunicorn's threads.
    Callers must not change the returned dict."""
    statistics = db.session.scalar(
        sa.select(ClusterSnapshot.statistics).where(ClusterSnapshot.id == snapshot_id))
    weights = {}
    for proposal_id, priority in ((statistics or {}).get("priorities") or {}).items():
        if str(proposal_id).isdigit():
            weights[int(proposal_id)] = _as_weight(priority)
    return weights


def _as_weight(value: Any) -> float:
    try:
        weight = float(value)
    except (TypeError, ValueError):
        return DEFAULT_PRIORITY
    if weight != weight or weight < 0 or weight == float("inf"):  # NaN, negative, inf
        return DEFAULT_PRIORITY
    return weight
