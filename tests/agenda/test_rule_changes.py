"""A facilitator changing the rule, the grouping method or the maximum number of groups
mid-round (or who may vote): the change is audited with what it was before, shown on the round's public page,
leaves the frozen evidence of items already on the agenda as it was, and does not make
them read as "support has since fallen" when only the rule moved. The item page says, in
words, which data the groups were drawn from."""

from __future__ import annotations

import copy

import sqlalchemy as sa

from deliberation.jobs.runner import refresh_and_escalate
from deliberation.models import AuditEntry, Escalation
from tests.agenda.conftest import build_planted_round

JA = {"Accept-Language": "ja"}
FORM = {
    "title": "Planted groups", "summary": "", "description": "", "background_links": "",
    "opens_at": "", "closes_at": "", "phase": "voting", "moderation_mode": "open",
    "eligibility": "everyone", "clustering_method": "pca", "max_groups": "5",
    "min_votes": "20", "min_agrees": "0", "min_groups": "2", "min_group_size": "5",
    "confidence": "0.9", "min_group_agree": "0.5", "min_consensus": "",
    "report_threshold": "3", "reports_need_participation": "y", "report_support_step": "10",
    "min_group_display": "5", "response_deadline_days": "60",
}


def test_rule_change_is_public_and_leaves_the_evidence(client, login_as, db) -> None:
    planted = build_planted_round()
    snap = refresh_and_escalate(planted.round.id)
    esc = db.session.scalar(sa.select(Escalation).where(
        Escalation.proposal_id == planted.consensus[0]))
    frozen = copy.deepcopy(esc.evidence)
    item_url = f"/agenda/items/{esc.id}"

    page = client.get(item_url, headers=JA).get_data(as_text=True)
    # which data, in words: votes, people, proposals, when, how grouped; no seed
    # the votes the groups were drawn from (those on moderated-out and meta proposals aside)
    drawn_from = snap.manifest["n_votes_grouped"]
    assert drawn_from < snap.n_votes
    assert f"{drawn_from:,}票" in page and f"{snap.n_participants:,}人" in page
    assert "主成分分析という方法" in page and "偶然" in page and "シード" not in page
    assert "PCA" not in page.split("<main", 1)[1]  # the method's Japanese name, not an acronym
    assert "基準が変更" not in page  # nothing changed yet

    facilitator = login_as("facilitator")
    saving = client.post(f"/facilitate/rounds/{planted.round.slug}/edit",
                         data={**FORM, "title": "Planted groups"})
    assert saving.status_code == 303
    assert db.session.scalar(sa.select(AuditEntry.id).where(
        AuditEntry.action == "round.update")) is None  # the same rule again is no change

    saving = client.post(f"/facilitate/rounds/{planted.round.slug}/edit",
                         data={**FORM, "min_group_agree": "0.97", "max_groups": "3",
                               "eligibility": "residents", "confirm_rule": "1",
                               "rule_snapshot_id": str(snap.id)})
    assert saving.status_code == 303
    db.session.refresh(planted.round)
    assert not planted.round.escalation_armed  # new groups are armed again on their preview
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "round.update"))
    assert entry.actor_id == facilitator.id
    assert entry.details["changed"]["threshold_policy"]["min_group_agree"] == 0.97
    assert entry.details["before"]["threshold_policy"]["min_group_agree"] == 0.5
    assert entry.details["before"]["max_groups"] == 5
    refresh_and_escalate(planted.round.id)  # a new snapshot under the new settings

    db.session.expire_all()
    assert db.session.get(Escalation, esc.id).evidence == frozen
    page = client.get(item_url, headers=JA).get_data(as_text=True)
    assert "その後、支持が下がっています" not in page  # the votes did not move, the rule did
    assert "基準が変更されました" in page  # ... and the page says so
    assert "50%" in page  # the rule it was escalated under

    round_page = client.get(f"/rounds/{planted.round.slug}", headers=JA).get_data(as_text=True)
    assert "基準の変更" in round_page and "グループの最大数" in round_page
    assert "50%" in round_page and "97%" in round_page  # before and now
    assert "参加できる人" in round_page and "住民のみ" in round_page


def test_report_moderation_and_arming_changes_are_public_too(client, login_as, db) -> None:
    """What hides a reported proposal, whether new proposals wait for approval and whether
    escalation is armed decide which proposals can reach the council: a change of them
    once voting has begun is listed on the round's page with its old value, like the rule.
    The agenda item, judged by group support, does not read them as a change of its rule."""
    planted = build_planted_round()
    refresh_and_escalate(planted.round.id)
    esc = db.session.scalar(sa.select(Escalation).where(
        Escalation.proposal_id == planted.consensus[0]))
    login_as("facilitator")
    saving = client.post(f"/facilitate/rounds/{planted.round.slug}/edit",
                         data={**FORM, "report_threshold": "1", "report_support_step": "0",
                               "reports_need_participation": "", "moderation_mode": "strict"})
    assert saving.status_code == 303
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "round.update"))
    assert entry.details["before"] == {"report_threshold": 3, "report_support_step": 10,
                                       "reports_need_participation": True,
                                       "moderation_mode": "open"}
    disarming = client.post(f"/facilitate/rounds/{planted.round.slug}/escalation",
                            data={"action": "disarm"})
    assert disarming.status_code == 303

    round_page = client.get(f"/rounds/{planted.round.slug}", headers=JA).get_data(as_text=True)
    assert "基準の変更" in round_page
    for line in ("提案を非表示にしてファシリテーターの確認を待つまでの通報件数：3 → 1",
                 "非表示に必要な通報を1件増やす賛成の数：10 → 増やさない",
                 "数える通報：このラウンドで投票した人の通報だけ → 参加できる人全員の通報",
                 "新しい提案の確認：「事後確認：すぐに公開し、後で確認」 → 「事前確認：新しい提案は"
                 "承認されてから公開」",
                 "議会への自動送付：有効 → 停止"):
        assert line in round_page, line
    page = client.get(f"/agenda/items/{esc.id}", headers=JA).get_data(as_text=True)
    assert "基準が変更されました" not in page  # the rule it was judged by did not move
