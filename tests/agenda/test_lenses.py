"""Bridging score and robustness: stored in every snapshot, frozen in the evidence, usable
in the policy, and shown in plain words on the council and public pages, exports and API."""

from __future__ import annotations

import csv
import io
import re

import pytest
import sqlalchemy as sa

from deliberation.database import db
from deliberation.engine import escalation, threshold
from deliberation.errors import DomainError
from deliberation.jobs.runner import refresh_and_escalate
from deliberation.models import Escalation
from deliberation.services import facilitation

JA = {"Accept-Language": "ja"}
EN = {"Accept-Language": "en"}
ROBUST_JA = "この提案は、意見の分かれ方を変えても支持が保たれます"


@pytest.fixture()
def escalated(planted):
    snap = refresh_and_escalate(planted.round.id)
    escs = db.session.scalars(sa.select(Escalation).order_by(Escalation.id)).all()
    return planted, snap, escs


def test_snapshot_stores_bridging_and_robustness(escalated):
    planted, snap, escs = escalated
    bridging = snap.statistics["bridging"]
    common = [bridging[str(p)]["intercept"] for p in planted.consensus]
    one_side = [bridging[str(p)]["intercept"] for p in planted.side_a + planted.side_b]
    assert min(common) > max(one_side)
    robustness = snap.statistics["robustness"]
    assert robustness["groupings"][0] == "pca k=2" and len(robustness["groupings"]) >= 2
    assert set(planted.side_a).isdisjoint(int(p) for p in robustness["holds"])
    # the frozen evidence records the score and where the rule holds
    assert sorted(e.proposal_id for e in escs) == sorted(planted.consensus)
    for esc in escs:
        ev = esc.evidence
        assert ev["bridging"] == bridging[str(esc.proposal_id)]["intercept"]
        assert ev["groupings"] == robustness["groupings"]
        assert ev["holds_for"] == robustness["holds"][str(esc.proposal_id)]
        assert threshold.lens_summary(ev)["robustness"] in ("robust", "partial", "fragile")


def test_policy_min_bridging_and_require_robust(escalated):
    planted, snap, _ = escalated
    strict = threshold.normalise_policy({"min_bridging": 0.99})
    decisions = escalation.snapshot_decisions(snap, strict, planted.consensus)
    assert not any(d.escalate for d in decisions.values())
    assert all(threshold.BRIDGING_BELOW_THRESHOLD in d.reasons for d in decisions.values())
    robust_only = threshold.normalise_policy({"require_robust": True})
    decisions = escalation.snapshot_decisions(snap, robust_only, planted.consensus)
    holds = snap.statistics["robustness"]["holds"]
    total = len(snap.statistics["robustness"]["groupings"])
    for pid, d in decisions.items():
        assert d.escalate == (len(holds[str(pid)]) == total)
        assert d.escalate or threshold.NOT_ROBUST in d.reasons
    # an older snapshot without the figures: the criteria cannot be met, and say why
    snap.statistics = {k: v for k, v in snap.statistics.items()
                       if k not in ("bridging", "robustness")}
    both = threshold.normalise_policy({"min_bridging": 0.1, "require_robust": True})
    d = escalation.snapshot_decisions(snap, both, planted.consensus[:1])[planted.consensus[0]]
    assert not d.escalate
    assert {threshold.BRIDGING_MISSING, threshold.ROBUSTNESS_MISSING} <= set(d.reasons)
    db.session.rollback()


@pytest.mark.parametrize(("policy", "field"), [
    ({"min_bridging": 2}, "min_bridging"), ({"min_bridging": "x"}, "min_bridging"),
    ({"require_robust": "yes"}, "require_robust"), ({"confidence": 1.0}, "confidence"),
    ({"min_votes": -1}, "min_votes"),
])
def test_one_policy_validator(policy, field):
    with pytest.raises(DomainError) as error:
        facilitation.validate_policy(policy)
    assert error.value.context["field"] == field
    with pytest.raises(threshold.PolicyError):
        threshold.normalise_policy(policy)


def test_facilitator_form_sets_and_refuses_the_new_criteria(client, login_as, db):
    from tests import factories
    from tests.facilitate.test_rounds import VALID

    login_as("facilitator")
    factories.make_round(slug="lens", phase="voting")
    data = {**VALID, "slug": "lens", "phase": "voting"}
    bad = client.post("/facilitate/rounds/lens/edit", data={**data, "min_bridging": "3"},
                      headers=EN)
    assert bad.status_code == 400 and "Enter a score between −1 and 1." in bad.get_data(
        as_text=True)
    ok = client.post("/facilitate/rounds/lens/edit",
                     data={**data, "min_bridging": "0.2", "require_robust": "y"}, headers=EN)
    assert ok.status_code == 303
    from deliberation.models import Round

    round_ = db.session.scalar(sa.select(Round).where(Round.slug == "lens"))
    assert round_.policy["min_bridging"] == 0.2 and round_.policy["require_robust"] is True
    page = client.get("/facilitate/rounds/lens/edit", headers=JA).get_data(as_text=True)
    assert "橋渡しスコアの下限" in page and 'value="0.2"' in page


def _lens_words(esc):
    summary = threshold.lens_summary(esc.evidence)
    return summary["robustness"], summary["bridging_level"]


def test_council_item_page_dossier_and_public_item_in_plain_words(escalated, client,
                                                                  login_as):
    _planted, _, escs = escalated
    esc = next(e for e in escs if _lens_words(e)[0] == "robust")
    login_as("council")
    html = client.get(f"/agenda/council/items/{esc.id}", headers=JA).get_data(as_text=True)
    assert ROBUST_JA in html
    assert "意見が対立する両側の人たちから支持されています" in html
    assert "<details>" in html and "くわしく" in html and "橋渡しスコア" in html
    assert f"{esc.evidence['bridging']:.2f}" in html
    english = client.get(f"/agenda/council/items/{esc.id}", headers=EN).get_data(as_text=True)
    assert "keeps its support however the opinion groups are drawn" in english
    dossier = client.get(f"/agenda/council/items/{esc.id}/dossier", headers=JA)
    assert ROBUST_JA in dossier.get_data(as_text=True)
    public = client.get(f"/agenda/items/{esc.id}", headers=JA).get_data(as_text=True)
    assert ROBUST_JA in public and "くわしく" in public
    # the figures behind くわしく read in easy Japanese too, for a reader who chose it
    client.post("/reading", data={"reading": "easy"}, headers=JA)
    easy = client.get(f"/agenda/items/{esc.id}", headers=JA).get_data(as_text=True)
    easy = re.sub(r"<[^>]+>", "", re.sub(r"<rt\b[^>]*>.*?</rt>", "", easy))
    assert "考えが違う人たちをつなぐ点数" in easy and "同じ投票で、グループの分け方を変えたとき" in easy
    assert "きまりに合っています" in easy
    assert "橋渡しスコア" not in easy and "条件を満たして" not in easy


def test_fragile_item_says_so(escalated, client, login_as):
    _, _, escs = escalated
    esc = escs[0]
    esc.evidence = {**esc.evidence, "holds_for": esc.evidence["groupings"][:1]}
    db.session.commit()
    login_as("council")
    html = client.get(f"/agenda/council/items/{esc.id}", headers=JA).get_data(as_text=True)
    assert "特定のグループ分けでのみ条件を満たしています（不安定）" in html


def test_exports_and_api_carry_the_figures_and_words(escalated, client, login_as):
    planted, _, escs = escalated
    login_as("council")
    raw = client.get("/agenda/council/export.csv", headers=JA).data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(raw)))
    assert len(rows) == len(escs)
    for row in rows:
        assert float(row["橋渡しスコア"]) > 0.15
        assert row["頑健性"] and row["橋渡しの説明"]
    assert any(r["頑健性"] == ROBUST_JA + "。" for r in rows)
    items = client.get("/agenda/council/export.json", headers=EN).get_json()["items"]
    assert all("lens" not in i and i["bridging_score"] is not None for i in items)
    assert all(i["robustness"] in ("robust", "partial", "fragile") for i in items)
    api = client.get(f"/api/v1/rounds/{planted.round.slug}/agenda", headers=JA).get_json()
    entry = api["agenda"][0]
    assert entry["bridging"]["level"] in ("broad", "some", "narrow")
    assert entry["bridging"]["score"] == escs[0].evidence["bridging"]
    assert entry["robustness"]["groupings"] == len(escs[0].evidence["groupings"])
    assert entry["robustness"]["words"]


def test_manual_item_without_figures_has_no_lens_block(one_item_manual, client, login_as):
    login_as("council")
    html = client.get(f"/agenda/council/items/{one_item_manual.id}", headers=JA)
    assert html.status_code == 200 and "くわしく" not in html.get_data(as_text=True)
    api = client.get(f"/api/v1/rounds/{one_item_manual.round.slug}/agenda").get_json()
    assert api["agenda"][0]["bridging"] is None and api["agenda"][0]["robustness"] is None


@pytest.fixture()
def one_item_manual(db):
    from tests import factories

    round_ = factories.make_round(phase="voting")
    proposal = factories.make_proposal(round_, "No snapshot")
    return escalation.escalate_manually(proposal.id, actor=factories.make_user("facilitator"),
                                        reason="test")


def test_evidence_tells_unplaced_people_apart(escalated, client, login_as):
    _, _, escs = escalated
    esc = escs[0]
    login_as("council")
    html = client.get(f"/agenda/council/items/{esc.id}", headers=EN).get_data(as_text=True)
    assert "75 of 75 participants were placed in opinion groups." in html
    assert "not voted on enough proposals" not in html
    snapshot = esc.evidence["snapshot"]
    manifest = {**snapshot["manifest"], "n_participants": 90}
    esc.evidence = {**esc.evidence, "snapshot": {**snapshot, "manifest": manifest}}
    db.session.commit()
    ja = client.get(f"/agenda/council/items/{esc.id}", headers=JA).get_data(as_text=True)
    assert "参加者90人のうち75人が意見グループに入っています。" in ja
    assert "15人は、まだ投票した提案が少ないためグループに入っていません。" in ja


def test_umap_evidence_names_the_processor_it_was_computed_for(escalated, client, login_as):
    _, _, escs = escalated
    esc = escs[0]
    snapshot = esc.evidence["snapshot"]
    sentence = "グループがわずかに変わることがあります"
    login_as("council")
    assert sentence not in client.get(f"/agenda/council/items/{esc.id}",
                                      headers=JA).get_data(as_text=True)
    manifest = {**snapshot["manifest"], "method": "umap", "reducer": "umap",
                "versions": {**snapshot["manifest"]["versions"], "processor": "znver4"}}
    esc.evidence = {**esc.evidence, "snapshot": {**snapshot, "manifest": manifest}}
    db.session.commit()
    ja = client.get(f"/agenda/council/items/{esc.id}", headers=JA).get_data(as_text=True)
    assert "必ず同じグループができます" in ja
    assert "（znver4）" in ja and sentence in ja
    en = client.get(f"/agenda/council/items/{esc.id}", headers=EN).get_data(as_text=True)
    assert "computer that ran it (znver4)" in en


def test_preview_lists_robustness_and_applies_the_new_criteria(escalated):
    planted, _, _ = escalated
    preview = facilitation.preview_escalations(planted.round, {})
    # all of them are on the agenda already: listed apart, as nothing would send them again
    assert preview["escalate"] == []
    assert sorted(p.id for p, _, _ in preview["on_agenda"]) == sorted(planted.consensus)
    assert all(lens["robustness"] in ("robust", "partial", "fragile")
               for _, _, lens in preview["on_agenda"])
    strict = facilitation.preview_escalations(planted.round, {"min_bridging": 0.99})
    assert strict["escalate"] == strict["on_agenda"] == []
    with pytest.raises(DomainError):
        facilitation.preview_escalations(planted.round, {"require_robust": "maybe"})


def test_an_escalated_proposal_keeps_its_own_direction(escalated, client):
    _, _, escs = escalated
    html = client.get(f"/agenda/items/{escs[0].id}", headers=JA).get_data(as_text=True)
    assert f"<h1><bdi>{escs[0].proposal.text}</bdi></h1>" in html
