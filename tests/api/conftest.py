"""A round with proposals, votes, a snapshot (one small group) and an agenda entry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from deliberation.database import db as _db
from deliberation.models import (
    ClusterSnapshot,
    Escalation,
    OfficialResponse,
    SnapshotGroup,
    SnapshotProposalStat,
    utcnow,
)
from tests import factories

DISTINCT_EMAIL = "zz-secret-mail@example.org"
DISTINCT_NAME = "Zebulon Quixotic"


@pytest.fixture()
def api_round(db) -> dict:
    round_ = factories.make_round(phase="voting", title="Open API round", min_group_display=5)
    factories.make_round(phase="draft", slug="secret-draft")
    user = factories.make_user(email=DISTINCT_EMAIL, display_name=DISTINCT_NAME)
    author = factories.make_participant(round_, user)
    open_ = factories.make_proposal(round_, "More benches", author_id=author.id)
    hidden = factories.make_proposal(round_, "Hidden text never public", status="hidden")
    pending = factories.make_proposal(round_, "Pending text never public", status="pending")
    voters = [factories.make_participant(round_) for _ in range(3)]
    for participant, value in zip(voters, (1, 1, -1), strict=True):
        factories.add_vote(participant, open_, value)
    factories.add_vote(voters[0], hidden, 1)
    snapshot = ClusterSnapshot(round_id=round_.id, status="ok", method="pca", k=2,
                               n_participants=14, n_votes=40)
    _db.session.add(snapshot)
    _db.session.flush()
    _db.session.add_all([
        SnapshotGroup(snapshot_id=snapshot.id, group_id=0, size=10),
        SnapshotGroup(snapshot_id=snapshot.id, group_id=1, size=2),  # below min_group_display
        SnapshotProposalStat(snapshot_id=snapshot.id, proposal_id=open_.id, group_id=None,
                             agree=2, disagree=1, passes=0),
        SnapshotProposalStat(snapshot_id=snapshot.id, proposal_id=open_.id, group_id=0,
                             agree=2, disagree=0, passes=0),
        SnapshotProposalStat(snapshot_id=snapshot.id, proposal_id=open_.id, group_id=1,
                             agree=0, disagree=1, passes=0),
        SnapshotProposalStat(snapshot_id=snapshot.id, proposal_id=hidden.id, group_id=None,
                             agree=1, disagree=0, passes=0),
    ])
    escalation = Escalation(proposal_id=open_.id, round_id=round_.id, snapshot_id=snapshot.id,
                            kind="automatic", support=0.71)
    _db.session.add(escalation)
    _db.session.flush()
    _db.session.add(OfficialResponse(escalation_id=escalation.id, status="answered",
                                     outcome="adopted", answer="We will add benches.",
                                     department="Parks", due_at=utcnow() + timedelta(days=60),
                                     answered_at=utcnow()))
    _db.session.commit()
    return {"round": round_, "open": open_, "hidden": hidden, "pending": pending,
            "user": user, "author": author, "voters": voters}
