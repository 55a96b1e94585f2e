"""Fixtures for the participation tests: a round with a hand-written snapshot."""

from __future__ import annotations

import pytest

from deliberation.database import db as _db
from deliberation.models import (
    ClusterSnapshot,
    SnapshotGroup,
    SnapshotMembership,
    SnapshotProposalStat,
)
from tests.factories import make_participant, make_proposal


def write_snapshot(round_, participants, proposals, *, sizes=(6, 6, 2)):
    """A fake snapshot: groups of the given sizes, members laid out on a line per group."""
    snap = ClusterSnapshot(
        round_id=round_.id, method="pca", k=len(sizes), n_participants=len(participants),
        n_clustered=sum(sizes), n_votes=len(participants) * len(proposals),
        statistics={
            "repness": {str(g): [{"proposal_id": proposals[g % len(proposals)].id,
                                  "direction": "agree", "p_success": 0.8}]
                        for g in range(len(sizes))},
            "group_aware_consensus": {str(proposals[0].id): 0.72},
            "priorities": {str(p.id): 1.0 for p in proposals},
        },
    )
    _db.session.add(snap)
    _db.session.flush()
    i = 0
    for g, size in enumerate(sizes):
        _db.session.add(SnapshotGroup(snapshot_id=snap.id, group_id=g, size=size,
                                      center_x=float(g), center_y=0.0))
        for j in range(size):
            _db.session.add(SnapshotMembership(snapshot_id=snap.id,
                                               participant_id=participants[i].id,
                                               x=float(g) + j * 0.01, y=float(j % 3), group_id=g))
            i += 1
    for p in proposals:
        _db.session.add(SnapshotProposalStat(snapshot_id=snap.id, proposal_id=p.id,
                                             group_id=None, agree=8, disagree=4, passes=2))
        for g in range(len(sizes)):
            _db.session.add(SnapshotProposalStat(snapshot_id=snap.id, proposal_id=p.id,
                                                 group_id=g, agree=g + 1, disagree=1, passes=0))
    _db.session.commit()
    return snap


@pytest.fixture()
def round_with_snapshot(make_round):
    round_ = make_round(phase="voting", min_group_display=5)
    proposals = [make_proposal(round_, f"Idea number {i}") for i in range(3)]
    participants = [make_participant(round_, kind="resident" if i % 2 else "e_citizen")
                    for i in range(14)]
    snap = write_snapshot(round_, participants, proposals)
    return round_, proposals, participants, snap
