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
    assert f"{snap.n_votes}票" in page and f"{snap.n_participants}人" in page
    assert "PCA" in page and "偶然" in page and "シード" not in page
    assert "基準が変更" not in page  # nothing changed yet

    facilitator = login_as("facilitator")
    saving = client.post(f"/facilitate/rounds/{planted.round.slug}/edit",
                         data={**FORM, "title": "Planted groups"})
    assert saving.status_code == 303
    assert db.session.scalar(sa.select(AuditEntry.id).where(
        AuditEntry.action == "round.update")) is None  # the same rule again is no change

    saving = client.post(f"/facilitate/rounds/{planted.round.slug}/edit",
                         data={**FORM, "min_group_agree": "0.97", "max_groups": "3",
                               "eligibility": "residents"})
    assert saving.status_code == 303
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
