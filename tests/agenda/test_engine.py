"""Snapshots and the escalation engine on a synthetic round with planted groups."""

from __future__ import annotations

import csv
import io
import json
import logging
import re

import sqlalchemy as sa

from deliberation.database import db
from deliberation.engine import escalation
from deliberation.jobs.runner import refresh_and_escalate
from deliberation.models import (
    AuditEntry,
    ClusterSnapshot,
    Escalation,
    OfficialResponse,
    Proposal,
    SnapshotMembership,
    SnapshotProposalStat,
    Vote,
)
from deliberation.models.snapshot import latest_snapshot


def _escalated(round_id: int) -> list[int]:
    return sorted(db.session.scalars(
        sa.select(Escalation.proposal_id).where(Escalation.round_id == round_id)))


def test_done_when_cli_escalates_exactly_the_common_ground(planted, runner):
    result = runner.invoke(args=["cluster", "run", planted.round.slug])
    assert result.exit_code == 0, result.output
    assert "2 opinion groups" in result.output and "Escalated 4 proposals." in result.output
    # groups numbered from 1, as the pages and exports number them; counts as the pages
    # write them
    assert re.search(r"groups \(members 1: \d+, 2: \d+\)", result.output), result.output
    assert "participants: 75, grouped: 75; votes: 1,050;" in result.output, result.output
    assert re.search(r"group 1: \d+ of \d+ agree \(cautious estimate 0\.\d\d\); group 2: ",
                     result.output)
    result = runner.invoke(args=["agenda", "export", "--round", planted.round.slug,
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    items = json.loads(result.output)["items"]
    assert sorted(i["proposal_id"] for i in items) == sorted(planted.consensus)
    for item in items:
        assert item["round"] == planted.round.slug and item["status"] == "received"
        assert item["external_id"] is not None and item["text"].startswith("Everyone")
        assert len(item["groups"]) == 2
        assert all(g["lower_bound"] >= 0.5 for g in item["groups"])
    # the large group's raw majority (side A: ~2/3 of all votes agree) did not escalate
    assert not set(planted.side_a) & {i["proposal_id"] for i in items}


def test_snapshot_rows_and_statistics(planted):
    snap = refresh_and_escalate(planted.round.id)
    assert snap.status == "ok" and snap.k == 2
    assert sorted(g.size for g in snap.groups) == [25, 50]
    assert snap.n_votes == 75 * 14 and snap.last_vote_event_id is not None
    assert snap.input_hash and snap.manifest["seed"] == 0 and snap.warm_start
    n_members = db.session.scalar(sa.select(sa.func.count()).select_from(SnapshotMembership)
                                  .where(SnapshotMembership.snapshot_id == snap.id))
    assert n_members == 75
    stats = db.session.scalars(sa.select(SnapshotProposalStat).where(
        SnapshotProposalStat.snapshot_id == snap.id)).all()
    assert len(stats) == 14 * 3  # two groups + overall
    overall = [s for s in stats if s.group_id is None and s.proposal_id == planted.consensus[0]]
    assert overall[0].seen == 75
    for key in ("repness", "consensus", "group_aware_consensus", "priorities", "extremity"):
        assert key in snap.statistics
    assert str(planted.consensus[0]) in snap.statistics["group_aware_consensus"]
    # excluded proposals are not representative
    rep_ids = {r["proposal_id"] for rows in snap.statistics["repness"].values() for r in rows}
    assert planted.meta not in rep_ids and planted.rejected not in rep_ids
    assert latest_snapshot(planted.round.id).id == snap.id


def test_rerun_never_escalates_twice_and_warm_starts(planted):
    first = refresh_and_escalate(planted.round.id)
    assert _escalated(planted.round.id) == sorted(planted.consensus)
    assert escalation.run_for_snapshot(first.id) == []
    second = refresh_and_escalate(planted.round.id)
    assert second.id != first.id and second.manifest["parameters"]["warm_start"] is True
    assert _escalated(planted.round.id) == sorted(planted.consensus)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OfficialResponse)) == 4
    esc = db.session.scalar(sa.select(Escalation).limit(1))
    ev = esc.evidence
    assert ev["policy"]["min_group_agree"] == 0.5 and ev["snapshot"]["id"] == first.id
    assert ev["snapshot"]["manifest"]["input_sha256"].endswith(first.input_hash)
    assert set(ev["group_sizes"].values()) == {25, 50}
    resp = esc.response
    assert resp.status == "received"
    assert (resp.due_at - esc.escalated_at).days == planted.round.response_deadline_days
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "escalation.automatic")) == 4


def test_failed_run_keeps_previous_snapshot(planted, monkeypatch):
    import clustering

    ok = refresh_and_escalate(planted.round.id)

    def boom(*args, **kwargs):
        raise RuntimeError("degenerate input")

    monkeypatch.setattr(clustering, "analyze", boom)
    failed = refresh_and_escalate(planted.round.id)
    assert failed.status == "failed" and "degenerate input" in failed.error
    assert latest_snapshot(planted.round.id).id == ok.id


def test_round_without_votes_is_a_normal_state(make_round, caplog):
    round_ = make_round()
    with caplog.at_level(logging.INFO, logger="deliberation.engine.snapshots"):
        assert refresh_and_escalate(round_.id) is None
    assert latest_snapshot(round_.id) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClusterSnapshot)) == 0
    [record] = [r for r in caplog.records if "no votes yet" in r.getMessage()]
    assert record.levelno == logging.INFO and record.exc_info is None


def test_support_fallen_is_shown_not_deleted(planted):
    from deliberation.services import agenda

    refresh_and_escalate(planted.round.id)
    target = planted.consensus[0]
    db.session.execute(sa.update(Vote).where(Vote.proposal_id == target).values(value=-1))
    db.session.commit()
    refresh_and_escalate(planted.round.id)
    items = {i.escalation.proposal_id: i for i in agenda.list_items()}
    assert target in items and items[target].support_fallen
    assert not items[planted.consensus[1]].support_fallen
    assert items[target].current.groups[0].agree == 0


def test_manual_escalation_and_withdrawal_need_reasons(planted, make_user):
    import pytest

    from deliberation.errors import Conflict, DomainError

    fac = make_user("facilitator")
    target = planted.side_a[0]
    with pytest.raises(DomainError):
        escalation.escalate_manually(target, actor=fac, reason="  ")
    esc = escalation.escalate_manually(target, actor=fac, reason="Petition with 900 signatures")
    assert esc.kind == "manual" and esc.reason.startswith("Petition")
    with pytest.raises(Conflict):
        escalation.escalate_manually(target, actor=fac, reason="again")
    with pytest.raises(DomainError):
        escalation.withdraw(esc.id, actor=fac, reason="")
    escalation.withdraw(esc.id, actor=fac, reason="Duplicate of another item")
    assert esc.withdrawn_at is not None
    actions = [a.action for a in db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["escalation.manual", "escalation.withdrawn"]
    # the engine never re-escalates a proposal that has a (withdrawn) row
    refresh_and_escalate(planted.round.id)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Escalation).where(
        Escalation.proposal_id == target)) == 1
    rejected = db.session.get(Proposal, planted.rejected)
    with pytest.raises(DomainError):
        escalation.escalate_manually(rejected.id, actor=fac, reason="x")


def test_csv_export_has_bom_and_japanese(planted, runner, tmp_path):
    db.session.get(Proposal, planted.consensus[0]).text = "駅前に公園を"
    db.session.commit()
    refresh_and_escalate(planted.round.id)
    out = tmp_path / "agenda.csv"
    result = runner.invoke(args=["agenda", "export", "--format", "csv", "--output", str(out)])
    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 4 and "駅前に公園を" in {r["提案"] for r in rows}


def test_cli_errors(runner, db):
    result = runner.invoke(args=["cluster", "run", "nope"])
    assert result.exit_code != 0 and "There is no round" in result.output
    result = runner.invoke(args=["agenda", "export", "--round", "nope"])
    assert result.exit_code != 0 and "There is no round" in result.output
    result = runner.invoke(args=["agenda", "export", "--format", "xml"])
    assert result.exit_code == 2


def test_snapshot_count(planted):
    refresh_and_escalate(planted.round.id)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClusterSnapshot)) == 1


def test_bad_policy_keeps_the_snapshot(planted):
    planted.round.threshold_policy = {"confidence": 2}
    db.session.commit()
    snap = refresh_and_escalate(planted.round.id)
    assert snap.status == "ok" and latest_snapshot(planted.round.id).id == snap.id
    assert _escalated(planted.round.id) == []


def test_facilitator_preview_agrees_with_the_engine(planted):
    from deliberation.services.facilitation import preview_escalations

    planted.round.escalation_armed = False
    db.session.commit()
    refresh_and_escalate(planted.round.id)
    preview = preview_escalations(planted.round, planted.round.policy)
    assert sorted(p.id for p, _support, _lens in preview["escalate"]) == sorted(planted.consensus)
    assert preview["on_agenda"] == []
    from deliberation.engine.arming import set_armed

    set_armed(planted.round, True, actor=None, seen_snapshot_id=preview["snapshot"].id)
    assert _escalated(planted.round.id) == sorted(planted.consensus)  # what it previewed
    # counting only groups of >= 30 (the large one) and requiring one such group, the large
    # side's majority proposals escalate too: the preview follows the policy it is given
    loose = preview_escalations(planted.round, {**planted.round.policy, "min_groups": 1,
                                                "min_group_size": 30})
    assert set(planted.side_a) <= {p.id for p, _support, _lens in loose["escalate"]}
