"""Re-running the clustering of a round with another seed, warm or cold, gives the same
groups and the same escalation decisions: a facilitator cannot flip an outcome by
re-rolling (the seed is accepted and recorded, and has no effect)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from deliberation.database import db
from deliberation.engine import escalation
from deliberation.engine.snapshots import refresh_round
from deliberation.models import ClusterSnapshot, SnapshotMembership
from tests.agenda.conftest import build_planted_round

pytestmark = pytest.mark.usefixtures("db")


def _outcome(snapshot: ClusterSnapshot, policy: dict) -> tuple[dict, set]:
    groups = dict(db.session.execute(
        sa.select(SnapshotMembership.participant_id, SnapshotMembership.group_id).where(
            SnapshotMembership.snapshot_id == snapshot.id)).tuples().all())
    passing = {pid for pid, d in escalation.snapshot_decisions(snapshot, policy).items()
               if d.escalate}
    return groups, passing


def test_another_seed_warm_or_cold_changes_nothing() -> None:
    planted = build_planted_round(n_a=30, n_b=20)
    policy = planted.round.policy
    first = _outcome(refresh_round(planted.round.id, seed=0), policy)
    assert set(planted.consensus) <= first[1]  # the rule works on this round
    warm = _outcome(refresh_round(planted.round.id, seed=987_654), policy)
    db.session.execute(sa.delete(ClusterSnapshot))  # no previous snapshot to start from
    db.session.commit()
    cold = _outcome(refresh_round(planted.round.id, seed=31), policy)
    assert warm == first and cold == first


def test_the_command_does_not_say_a_seed_changes_the_groups(runner) -> None:
    help_text = runner.invoke(args=["cluster", "run", "--help"]).output
    assert "never depend on it" in help_text and "same seed gives" not in help_text
