"""Done-when on real data: vtaiwan.uberx imported, clustered, escalated, exported."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from deliberation.database import db
from deliberation.engine import escalation
from deliberation.models import Escalation, Proposal, Round, Vote
from deliberation.models.snapshot import latest_snapshot
from tests.conftest import polis_dataset


@pytest.mark.slow  # imports and clusters a real Pol.is round
def test_vtaiwan_uberx_escalates_only_cross_group_agreement(runner):
    path = polis_dataset("vtaiwan.uberx")
    result = runner.invoke(args=["polis", "import", str(path), "--slug", "uberx"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["cluster", "run", "uberx"])
    assert result.exit_code == 0, result.output
    assert "2 opinion groups" in result.output
    # armed once its groups have been seen (an import cannot be armed before)
    assert runner.invoke(args=["agenda", "arm", "uberx", "--yes"]).exit_code == 0
    result = runner.invoke(args=["agenda", "export", "--round", "uberx", "--format", "json"])
    items = json.loads(result.output)["items"]
    escalated = {int(i["external_id"]) for i in items}
    # Pol.is's own top consensus statements (insurance, safety first) reach the agenda
    assert {7, 16, 40} <= escalated
    for item in items:
        assert len(item["groups"]) == 2
        assert all(g["lower_bound"] >= 0.5 for g in item["groups"]), item
    round_ = db.session.scalar(sa.select(Round).where(Round.slug == "uberx"))
    snapshot = latest_snapshot(round_.id)
    decisions = escalation.snapshot_decisions(snapshot, round_.policy)
    published = set(db.session.scalars(sa.select(Proposal.id).where(
        Proposal.round_id == round_.id, Proposal.status == "published")))
    one_sided = [pid for pid, d in decisions.items() if pid in published
                 and any(g.eligible and not g.blocking for g in d.groups)
                 and any(g.blocking for g in d.groups)]
    assert one_sided  # the conversation is polarised ...
    ids = {i["proposal_id"] for i in items}
    assert not ids & set(one_sided)  # ... and none of the one-sided statements escalate
    assert ids == {pid for pid, d in decisions.items() if pid in published and d.escalate}


@pytest.mark.slow  # imports and clusters a real Pol.is round
def test_the_evidence_names_the_votes_the_groups_were_drawn_from(runner, client):
    """bg2050: the groups leave out its 55 rejected statements and its meta one, but the
    agenda item said they were drawn from all 14,283 votes on 371 proposals, while the
    round page counts 316 proposals (biodiversity: 316 said, 139 used, 154 shown). It
    names the 13,586 votes on the 315 proposals the groups were drawn from."""
    path = polis_dataset("bg2050-volunteers")
    assert runner.invoke(args=["polis", "import", str(path), "--slug", "bg2050"]).exit_code == 0
    assert runner.invoke(args=["cluster", "run", "bg2050"]).exit_code == 0
    assert runner.invoke(args=["agenda", "arm", "bg2050", "--yes"]).exit_code == 0
    round_ = db.session.scalar(sa.select(Round).where(Round.slug == "bg2050"))
    used = sa.select(Proposal.id).where(Proposal.round_id == round_.id,
                                        Proposal.status == "published", ~Proposal.is_meta)
    proposals = db.session.scalar(sa.select(sa.func.count()).select_from(used.subquery()))
    votes = db.session.scalar(sa.select(sa.func.count()).select_from(Vote).where(
        Vote.proposal_id.in_(used)))
    assert (proposals, votes) == (315, 13_586)
    item = db.session.scalar(sa.select(Escalation.id).where(Escalation.round_id == round_.id)
                             .limit(1))
    html = client.get(f"/agenda/items/{item}", headers={"Accept-Language": "en"}).get_data(
        as_text=True)
    assert "drawn from the 13,586 votes of 126 participants on 315 proposals" in html

