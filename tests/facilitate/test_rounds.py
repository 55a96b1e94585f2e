"""Round lifecycle: create, edit (Tokyo times), validation keeps input, phases, seeds."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from deliberation.models import (
    AuditEntry,
    ClusterSnapshot,
    Escalation,
    EscalationReview,
    Participant,
    Proposal,
    Round,
    SnapshotGroup,
    SnapshotMembership,
    SnapshotProposalStat,
    utcnow,
)
from deliberation.services import facilitation, workshops
from deliberation.services.health import pending_since
from deliberation.text import text_key
from tests import factories
from tests.facilitate.conftest import EN
from tests.races import committed_first

JA = {"Accept-Language": "ja"}

VALID = {
    "slug": "town-2030", "title": "Town 2030", "summary": "S", "description": "**D**",
    "background_links": "Plan | https://example.org/plan\nhttps://example.org/b",
    "opens_at": "2026-12-01T09:00", "closes_at": "2026-12-20T18:00", "phase": "draft",
    "moderation_mode": "strict", "eligibility": "residents", "clustering_method": "umap",
    "max_groups": "4", "min_votes": "30", "min_agrees": "0", "min_groups": "2",
    "min_group_size": "5", "confidence": "0.95", "min_group_agree": "0.6",
    "min_consensus": "", "report_threshold": "3", "reports_need_participation": "y",
    "report_support_step": "10", "min_group_display": "5",
    "response_deadline_days": "60", "open_data_enabled": "y",
}


def test_a_round_created_twice_at_once_is_created_once(client, facilitator, db) -> None:
    """A double click on "create": the other copy committed the round between this
    request's check of the address and its insert."""
    other = sa.insert(Round).values(slug=VALID["slug"], title="Other")
    with committed_first(Round, lambda: other) as raced:
        response = client.post("/facilitate/rounds/new", data=VALID, headers=EN)
    assert raced
    assert response.status_code == 400
    assert "A round with this address already exists." in response.get_data(as_text=True)
    assert db.session.scalars(sa.select(Round.title)).all() == ["Other"]


def test_create_round_stores_utc_and_policy(client, facilitator, db) -> None:
    response = client.post("/facilitate/rounds/new", data=VALID, headers=EN)
    assert response.status_code == 303
    round_ = db.session.scalar(sa.select(Round).where(Round.slug == "town-2030"))
    assert round_.opens_at == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    assert round_.closes_at == datetime(2026, 12, 20, 9, 0, tzinfo=UTC)
    assert round_.policy["min_votes"] == 30 and round_.policy["confidence"] == 0.95
    assert round_.policy["min_consensus"] is None
    assert round_.background_links[0] == {"title": "Plan", "url": "https://example.org/plan"}
    assert round_.moderation_mode == "strict" and round_.clustering_method == "umap"
    assert round_.open_data_enabled and round_.max_groups == 4
    assert db.session.scalar(sa.select(AuditEntry.action)) == "round.create"
    page = client.get("/facilitate/rounds/town-2030/edit", headers=EN).get_data(as_text=True)
    assert 'value="2026-12-01T09:00"' in page  # shown in Japan time again


def test_invalid_input_is_kept_with_clear_errors(client, facilitator, db) -> None:
    bad = {**VALID, "title": "Keep me", "closes_at": "2026-11-30T09:00", "max_groups": "20",
           "background_links": "javascript:alert(1)", "confidence": "abc"}
    response = client.post("/facilitate/rounds/new", data=bad, headers=EN)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'value="Keep me"' in page
    assert "The closing time must be after the opening time." in page
    assert "must start with https://" in page
    assert "Please enter a number from 2 to 12." in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Round)) == 0


@pytest.mark.parametrize(("field", "value"), [
    ("opens_at", "0001-01-01T00:00"),  # before the first instant Python's UTC can hold
    ("opens_at", "1999-12-31T23:59"), ("closes_at", "3000-01-01T00:00"),
    ("closes_at", "9999-12-31T23:59"),
])
def test_a_date_outside_any_round_is_refused_in_japanese(client, facilitator, db, field,
                                                          value) -> None:
    response = client.post("/facilitate/rounds/new", data={**VALID, field: value}, headers=JA)
    assert response.status_code == 400
    assert "2000年から2999年までの日時を入力してください。" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Round)) == 0


@pytest.mark.parametrize(("field", "value", "stored"), [
    ("min_group_size", "0", 0), ("min_votes", "0", 0), ("min_groups", "1", 1),
    ("confidence", "0.5", 0.5), ("confidence", "0.995", 0.995),
    ("min_group_agree", "0", 0.0), ("min_group_agree", "1", 1.0),
    ("min_bridging", "-1", -1.0), ("min_bridging", "1", 1.0), ("min_consensus", "1", 1.0),
])
def test_policy_boundaries_the_domain_accepts(client, facilitator, db, field, value,
                                              stored) -> None:
    response = client.post("/facilitate/rounds/new", data={**VALID, field: value}, headers=EN)
    assert response.status_code == 303
    round_ = db.session.scalar(sa.select(Round))
    assert round_.policy[field] == stored
    page = client.get(f"/facilitate/rounds/{round_.slug}/edit").get_data(as_text=True)
    shown = re.search(rf'<input[^>]* name="{field}"[^>]* value="([^"]*)"', page)
    assert float(shown.group(1)) == stored  # shown as stored, not rounded


@pytest.mark.parametrize(("field", "value", "message", "japanese"), [
    ("min_group_size", "-1", "Enter a whole number from 0 to 10,000,000.", "0以上10,000,000以下"),
    ("min_votes", "-1", "Enter a whole number from 0 to 10,000,000.", "0以上10,000,000以下"),
    ("min_votes", "99999999999999999999999", "Enter a whole number from 0 to 10,000,000.",
     "0以上10,000,000以下"),
    ("min_agrees", "10000001", "Enter a whole number from 0 to 10,000,000.",
     "0以上10,000,000以下"),
    ("min_groups", "0", "Enter a whole number from 1 to 12.", "1以上12以下"),
    ("min_groups", "13", "Enter a whole number from 1 to 12.", "1以上12以下"),
    ("confidence", "1", "Enter a confidence of at least 0.5 and below 1.", "0.5以上1未満"),
    ("confidence", "0.49", "Enter a confidence of at least 0.5 and below 1.", "0.5以上1未満"),
    ("confidence", "sNaN", "Enter a confidence of at least 0.5 and below 1.", "0.5以上1未満"),
    ("confidence", "NaN", "Enter a confidence of at least 0.5 and below 1.", "0.5以上1未満"),
    ("min_group_agree", "1.01", "Enter a share between 0 and 1.", "0から1の間"),
    ("min_consensus", "-0.1", "Enter a share between 0 and 1.", "0から1の間"),
    ("min_bridging", "-1.5", "Enter a score between −1 and 1.", "−1から1の間"),
])
def test_policy_out_of_range_is_refused_by_the_domain_rule(client, facilitator, db, field,
                                                           value, message, japanese) -> None:
    """The form checks the threshold policy with the service's own validator: the same
    boundaries, the error under the field, in the reader's language, nothing stored."""
    data = {**VALID, field: value}
    response = client.post("/facilitate/rounds/new", data=data, headers=EN)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert page.index(f'name="{field}"') < page.index(message)  # under its field
    ja = client.post("/facilitate/rounds/new", data=data, headers={"Accept-Language": "ja"})
    assert ja.status_code == 400 and japanese in ja.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Round)) == 0
    round_ = factories.make_round(slug="kept", phase="voting")
    policy = dict(round_.policy)
    edit = client.post("/facilitate/rounds/kept/edit", data={**data, "slug": "kept"},
                       headers=EN)
    assert edit.status_code == 400 and message in edit.get_data(as_text=True)
    db.session.refresh(round_)
    assert round_.policy == policy


def test_duplicate_and_bad_slug(client, facilitator, db) -> None:
    factories.make_round(slug="taken")
    page = client.post("/facilitate/rounds/new", data={**VALID, "slug": "taken"},
                       headers=EN).get_data(as_text=True)
    assert "already exists" in page
    page = client.post("/facilitate/rounds/new", data={**VALID, "slug": "Bad Slug!"},
                       headers=EN).get_data(as_text=True)
    assert "only a-z, 0-9" in page


def test_edit_round_and_audit(client, facilitator, db) -> None:
    round_ = factories.make_round(slug="e1", phase="voting")
    data = {**VALID, "slug": "ignored", "title": "New title", "phase": "voting"}
    assert client.post("/facilitate/rounds/e1/edit", data=data).status_code == 303
    db.session.refresh(round_)
    assert round_.slug == "e1" and round_.title == "New title"
    assert pending_since(round_.id) is not None  # policy changed
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "round.update"))
    assert "title" in entry.details["changed"]


def test_report_settings_are_saved_from_the_round_form(client, facilitator, db) -> None:
    round_ = factories.make_round(slug="rep", phase="voting")
    assert round_.reports_need_participation and round_.report_support_step == 10
    data = {**VALID, "slug": "rep", "phase": "voting", "report_support_step": "0"}
    del data["reports_need_participation"]  # an unticked box is not sent
    assert client.post("/facilitate/rounds/rep/edit", data=data).status_code == 303
    db.session.refresh(round_)
    assert round_.reports_need_participation is False and round_.report_support_step == 0
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "round.update"))
    assert entry.details["changed"]["report_support_step"] == 0
    page = client.get("/facilitate/rounds/rep/edit", headers={"Accept-Language": "ja"})
    html = page.get_data(as_text=True)
    assert "このラウンドで投票した人の通報だけを数える" in html
    assert 'id="report_support_step"' in html and 'value="0"' in html


def test_report_settings_out_of_range_are_refused_by_the_service_rule(client, facilitator, db
                                                                       ) -> None:
    round_ = factories.make_round(slug="rep", phase="voting")
    data = {**VALID, "slug": "rep", "phase": "voting", "title": "Keep me"}
    for value, status in (("1001", 400), ("-1", 400), ("abc", 400), ("", 400)):
        response = client.post("/facilitate/rounds/rep/edit",
                               data={**data, "report_support_step": value},
                               headers={"Accept-Language": "ja"})
        assert response.status_code == status, value
        html = response.get_data(as_text=True)
        assert 'value="Keep me"' in html
        assert "何も保存されていません" in html
    html = client.post("/facilitate/rounds/rep/edit", data={**data, "report_support_step": "1001"},
                       headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "0以上1000以下の整数を入力してください" in html
    html = client.post("/facilitate/rounds/rep/edit", data={**data, "report_threshold": "0"},
                       headers=EN).get_data(as_text=True)
    assert "Enter a whole number from 1 to 100." in html
    db.session.refresh(round_)
    assert round_.report_support_step == 10 and round_.report_threshold == 3
    assert round_.title != "Keep me"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "round.update")) == 0


def test_the_smallest_group_shown_is_never_set_under_the_small_count_rule(
        client, facilitator, db) -> None:
    """Results hide groups under 5 people whatever a round says: a smaller figure typed into
    the form is refused instead of being saved and silently not applied, and a round stored
    with one shows the figure that applies."""
    round_ = factories.make_round(slug="few", phase="voting")
    data = {**VALID, "slug": "few", "phase": "voting"}
    response = client.post("/facilitate/rounds/few/edit", headers=JA,
                           data={**data, "min_group_display": "3"})
    assert response.status_code == 400
    assert "5以上100以下の整数を入力してください。" in response.get_data(as_text=True)
    db.session.refresh(round_)
    assert round_.min_group_display == 5
    round_.min_group_display = 2
    db.session.commit()
    page = client.get("/facilitate/rounds/few/edit", headers=JA).get_data(as_text=True)
    assert re.search(r'name="min_group_display"[^>]*value="5"', page)
    assert "プライバシーを守るため" in page


def test_report_settings_service_rule(db) -> None:
    import pytest

    from deliberation.errors import DomainError
    from deliberation.services import facilitation

    round_ = factories.make_round(slug="rep")
    for key, value in (("report_support_step", -1), ("report_support_step", 1001),
                       ("report_support_step", True), ("report_threshold", 0),
                       ("reports_need_participation", "yes")):
        with pytest.raises(DomainError) as error:
            facilitation.update_round(round_, actor=None, title="x", **{key: value})
        assert error.value.field == key
        db.session.rollback()
    facilitation.update_round(round_, actor=None, title="x", report_support_step=1000,
                              reports_need_participation=False)
    assert round_.report_support_step == 1000


def _planted_snapshot(round_):
    both = factories.make_proposal(round_, "Everyone agrees")
    one_side = factories.make_proposal(round_, "Only group one agrees")
    snapshot = ClusterSnapshot(round_id=round_.id, method="pca", k=2)
    snapshot.groups = [SnapshotGroup(group_id=0, size=30), SnapshotGroup(group_id=1, size=30)]
    factories.db.session.add(snapshot)
    factories.db.session.flush()
    counts = {both.id: [(0, 28, 1, 1), (1, 27, 2, 1)], one_side.id: [(0, 29, 1, 0), (1, 3, 26, 1)]}
    for pid, groups in counts.items():
        for gid, a, d, p in groups:
            factories.db.session.add(SnapshotProposalStat(
                snapshot_id=snapshot.id, proposal_id=pid, group_id=gid, agree=a, disagree=d,
                passes=p))
        factories.db.session.add(SnapshotProposalStat(
            snapshot_id=snapshot.id, proposal_id=pid, group_id=None,
            agree=sum(g[1] for g in groups), disagree=sum(g[2] for g in groups),
            passes=sum(g[3] for g in groups)))
    factories.db.session.commit()


def _armed_round(min_group_agree: float):
    """A round sending to the council automatically, under the usual rule but its share."""
    return factories.make_round(
        slug="armed", phase="voting", escalation_armed=True, clustering_method="umap",
        max_groups=4, threshold_policy=facilitation.validate_policy({
            "min_votes": 30, "min_agrees": 0, "min_groups": 2, "min_group_size": 5,
            "confidence": 0.95, "min_group_agree": min_group_agree, "min_consensus": None}))


def test_the_previews_never_round_up_the_share_they_call_a_minimum(client, facilitator,
                                                                    db) -> None:
    """「最も低いグループでも賛成 N% 以上」: the weakest group's cautious estimate, rounded
    down in the rule preview and in the rule-change preview, as on the agenda."""
    round_ = _armed_round(min_group_agree=0.99)
    _planted_snapshot(round_)
    # group 2 as group 1, 28 of 30: a cautious estimate of 81.7 %
    everyone = db.session.scalar(sa.select(Proposal.id).where(Proposal.text == "Everyone agrees"))
    db.session.execute(sa.update(SnapshotProposalStat).where(
        SnapshotProposalStat.proposal_id == everyone, SnapshotProposalStat.group_id == 1)
        .values(agree=28, disagree=1))
    db.session.commit()
    preview = facilitation.preview_escalations(round_, {**round_.policy, "min_group_agree": 0.6})
    support = dict((p.text, s) for p, s, _ in preview["escalate"])["Everyone agrees"]
    shown = f"賛成 {int(support * 100)}% 以上"
    assert round(support * 100) != int(support * 100)  # the data tells the two apart

    page = client.post("/facilitate/rounds/armed/preview", headers={**JA, "HX-Request": "true"},
                       data={**VALID, "phase": "voting", "min_group_agree": "0.6"})
    assert shown in page.get_data(as_text=True)
    page = client.post("/facilitate/rounds/armed/edit", headers=JA,
                       data={**VALID, "phase": "voting", "min_group_agree": "0.6"})
    assert page.status_code == 409 and shown in page.get_data(as_text=True)


def test_preview_shows_what_would_escalate_and_does_not_save(client, facilitator, db) -> None:
    round_ = factories.make_round(slug="p1", phase="voting")
    data = {**VALID, "title": "Changed", "phase": "voting", "preview": "1"}
    response = client.post("/facilitate/rounds/p1/edit", data=data, headers=EN)
    assert response.status_code == 200
    assert "no snapshot yet" in response.get_data(as_text=True)
    _planted_snapshot(round_)
    page = client.post("/facilitate/rounds/p1/edit", data=data, headers=EN).get_data(as_text=True)
    preview = page[page.index('id="policy-preview"'):]
    assert "Everyone agrees" in preview and "Only group one agrees" not in preview
    db.session.refresh(round_)
    assert round_.title != "Changed"
    # htmx fragment; a strict policy escalates nothing
    strict = {**data, "min_group_agree": "0.99"}
    fragment = client.post("/facilitate/rounds/p1/preview", data=strict,
                           headers={**EN, "HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "Everyone agrees" not in fragment and "none" in fragment
    fragment = client.post("/facilitate/rounds/p1/preview", data={**data, "confidence": "x"},
                           headers={**EN, "HX-Request": "true"}).get_data(as_text=True)
    assert "Please correct the settings first" in fragment
    # ... and says which setting, in the reader's language
    fragment = client.post("/facilitate/rounds/p1/preview",
                           data={**data, "min_group_size": "5.5", "min_votes": "x"},
                           headers={"Accept-Language": "ja", "HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "先に設定を修正してください。" in text
    problems = re.findall(r"<li>(.*?)</li>", text[text.index('<ul class="error">'):])
    assert [p.split("：")[0] for p in problems] == ["投票総数の最小値", "グループとして数える最少人数"]
    assert all("整数で入力してください。" in p for p in problems)
    db.session.refresh(round_)
    assert round_.title != "Changed"


def test_a_phase_button_pressed_twice_at_once_changes_the_phase_once(client, facilitator,
                                                                     db) -> None:
    """Two facilitators (or a double click) close the round at the same moment: the other
    request closed it between this one's check of the phase and its write."""
    round_ = factories.make_round(slug="ph2", phase="voting")
    other = sa.update(Round).where(Round.id == round_.id).values(phase="closed")
    with committed_first(Round, lambda: other) as raced:
        response = client.post("/facilitate/rounds/ph2/phase", data={"action": "close"},
                               headers=EN)
    assert raced
    assert response.status_code == 409
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0


@pytest.mark.parametrize("phase", ["collecting", "voting", "reflection", "closed"])
def test_a_public_round_cannot_go_back_to_draft(client, facilitator, db, phase) -> None:
    """A draft is invisible: putting a public round back would take its proposals, results
    and agenda items off the public pages without a withdrawal and its reason."""
    round_ = factories.make_round(slug="town-2030", phase=phase)
    response = client.post("/facilitate/rounds/town-2030/edit", headers=JA,
                           data={**VALID, "phase": "draft", "title": "下書きに戻す"})
    assert response.status_code == 400
    assert "公開したラウンドは下書きに戻せません。" in response.get_data(as_text=True)
    db.session.refresh(round_)
    assert round_.phase == phase and round_.title != "下書きに戻す"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0


@pytest.mark.parametrize(("phase", "draft_offered"), [("draft", True), ("voting", False)])
def test_the_edit_form_offers_draft_only_to_a_draft(client, facilitator, db, phase,
                                                    draft_offered) -> None:
    factories.make_round(slug="town-2030", phase=phase)
    page = client.get("/facilitate/rounds/town-2030/edit", headers=JA).get_data(as_text=True)
    draft = re.search(r'<option[^>]*value="draft"[^>]*>', page).group(0)
    assert ("disabled" not in draft) is draft_offered
    assert 'value="closed"' in page and re.search(r'<option[^>]*value="closed"[^>]*disabled',
                                                   page) is None


def test_a_draft_stays_a_draft_when_edited(client, facilitator, db) -> None:
    round_ = factories.make_round(slug="town-2030", phase="draft")
    response = client.post("/facilitate/rounds/town-2030/edit",
                           data={**VALID, "phase": "draft", "title": "まだ下書き"})
    assert response.status_code == 303
    db.session.refresh(round_)
    assert round_.phase == "draft" and round_.title == "まだ下書き"


def test_the_rule_of_an_armed_round_changes_only_on_its_confirmed_preview(client, facilitator,
                                                                          db) -> None:
    """On an armed round a new rule sends proposals to the council with the next snapshot.
    Lowering it (no share of agreement asked of each group) shows what it would add on the
    latest snapshot and is saved only when that preview is confirmed, as arming is; a
    confirmation of an older snapshot is refused. New clustering settings cannot be
    previewed: confirmed, they stop automatic sending until the new groups are armed."""
    round_ = factories.make_round(  # the rule and groups of VALID
        slug="armed", phase="voting", escalation_armed=True, clustering_method="umap",
        max_groups=4, threshold_policy=facilitation.validate_policy({
            "min_votes": 30, "min_agrees": 0, "min_groups": 2, "min_group_size": 5,
            "confidence": 0.95, "min_group_agree": 0.6, "min_consensus": None}))
    _planted_snapshot(round_)
    url, lowered = "/facilitate/rounds/armed/edit", {**VALID, "phase": "voting",
                                                     "min_group_agree": "0"}

    def box(response) -> str:
        page = response.get_data(as_text=True)
        start = page.index('id="rule-change"')
        return page[start:page.index("</section>", start)]

    response = client.post(url, data=lowered, headers=JA)
    assert response.status_code == 409
    shown = box(response)
    assert "Only group one agrees" in shown and "Everyone agrees" not in shown
    assert 'value="0"' in response.get_data(as_text=True)  # what was typed is kept
    first = re.search(r'name="rule_snapshot_id" value="(\d+)"', shown)[1]
    db.session.refresh(round_)
    assert round_.policy["min_group_agree"] == 0.6
    assert db.session.scalar(sa.select(AuditEntry.id)) is None

    newer = ClusterSnapshot(round_id=round_.id, method="umap", k=2)  # regrouped meanwhile
    db.session.add(newer)
    db.session.commit()
    response = client.post(url, data={**lowered, "confirm_rule": "1", "rule_snapshot_id": first},
                           headers=JA)
    assert response.status_code == 409 and "もう一度確認" in box(response)
    db.session.refresh(round_)
    assert round_.policy["min_group_agree"] == 0.6

    response = client.post(url, data={**lowered, "confirm_rule": "1",
                                      "rule_snapshot_id": str(newer.id)})
    assert response.status_code == 303
    db.session.refresh(round_)
    assert round_.policy["min_group_agree"] == 0 and round_.escalation_armed
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "round.update"))
    assert entry.details["snapshot_id"] == newer.id
    assert entry.details["before"]["threshold_policy"]["min_group_agree"] == 0.6

    regrouped = {**lowered, "clustering_method": "pca", "version": round_.updated_at.isoformat()}
    response = client.post(url, data=regrouped, headers=JA)
    assert response.status_code == 409 and "もう一度有効にしてください" in box(response)
    response = client.post(url, data={**regrouped, "confirm_rule": "1",
                                      "rule_snapshot_id": str(newer.id)})
    assert response.status_code == 303
    db.session.refresh(round_)
    assert round_.clustering_method == "pca" and not round_.escalation_armed
    assert db.session.scalar(sa.select(AuditEntry.id).where(
        AuditEntry.action == "round.escalation_disarmed")) is not None


def test_the_rule_change_preview_shows_what_a_flagged_block_decides_as_waiting(client,
                                                                              facilitator,
                                                                              db) -> None:
    """A proposal the new rule would pass, but only because a coordinated block keeps its
    group big enough to count, is held for a review by the runner: the preview says it
    would wait for one, not that it goes to the council."""
    round_ = _armed_round(min_group_agree=0.6)
    _planted_snapshot(round_)
    snapshot = db.session.scalar(sa.select(ClusterSnapshot))
    block = [Participant(round_id=round_.id) for _ in range(26)]
    db.session.add_all(block)
    db.session.flush()
    db.session.add_all(SnapshotMembership(snapshot_id=snapshot.id, participant_id=p.id, x=0.0, y=0.0,
                                          group_id=1) for p in block)
    snapshot.statistics = {"coordinated_blocks": [{
        "size": 26, "similarity": 1.0, "span_seconds": 60.0, "n_votes": 2,
        "participant_ids": [p.id for p in block]}]}
    db.session.commit()

    response = client.post("/facilitate/rounds/armed/edit", headers=JA,
                           data={**VALID, "phase": "voting", "min_group_agree": "0"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    shown = page[page.index('id="rule-change"'):]
    shown = shown[:shown.index("</section>")]
    added, waiting = shown.split("議会に送付されます", 1)[1].split("確認を待ちます", 1)
    assert "Only group one agrees" not in added and "Only group one agrees" in waiting
    assert db.session.scalar(sa.select(EscalationReview.id)) is None  # a preview writes nothing


@pytest.mark.parametrize("rule", ["stricter", "lower"])
def test_the_rule_change_preview_shows_what_a_flagged_block_newly_keeps_below_as_waiting(
        client, facilitator, db, rule) -> None:
    """A block of accounts in one group disagrees with what everybody else agrees with.
    Under the current rule it changes nothing; under the new one it keeps the proposal
    below the rule, which it would meet without the block: the runner holds such a veto
    for a review, so the preview lists it as waiting, not as no longer meeting the rule
    (a stricter rule) nor leaves it out (a lower rule, the block keeping it below both)."""
    current, new = ("0.3", "0.6") if rule == "stricter" else ("0.99", "0.6")
    round_ = _armed_round(min_group_agree=float(current))
    _planted_snapshot(round_)
    snapshot = db.session.scalar(sa.select(ClusterSnapshot))
    everyone = db.session.scalar(sa.select(Proposal).where(Proposal.text == "Everyone agrees"))
    block = [factories.make_participant(round_) for _ in range(20)]
    for participant in block:
        factories.add_vote(participant, everyone, -1)
        db.session.add(SnapshotMembership(snapshot_id=snapshot.id, participant_id=participant.id,
                                          x=0.0, y=0.0, group_id=1))
    db.session.execute(sa.update(SnapshotGroup).where(
        SnapshotGroup.snapshot_id == snapshot.id, SnapshotGroup.group_id == 1).values(size=50))
    db.session.execute(sa.update(SnapshotProposalStat).where(
        SnapshotProposalStat.snapshot_id == snapshot.id,
        SnapshotProposalStat.proposal_id == everyone.id,
        sa.or_(SnapshotProposalStat.group_id == 1, SnapshotProposalStat.group_id.is_(None)))
        .values(disagree=SnapshotProposalStat.disagree + len(block)))
    snapshot.statistics = {"coordinated_blocks": [{
        "size": len(block), "similarity": 1.0, "span_seconds": 60.0, "n_votes": 1,
        "participant_ids": [p.id for p in block]}]}
    db.session.commit()

    response = client.post("/facilitate/rounds/armed/edit", headers=JA,
                           data={**VALID, "phase": "voting", "min_group_agree": new})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    shown = page[page.index('id="rule-change"'):]
    shown = shown[:shown.index("</section>")]
    waiting, rest = shown.split("確認を待ちます", 1)[1].split("基準を満たさなくなります", 1)
    assert "Everyone agrees" in waiting and "Everyone agrees" not in rest
    assert "それらの票がなければ" in shown
    assert db.session.scalar(sa.select(EscalationReview.id)) is None  # a preview writes nothing


def test_the_rule_change_preview_does_not_send_a_withdrawn_item_again(client, facilitator,
                                                                       db) -> None:
    """A proposal goes to the council once: one whose item was withdrawn is not sent again
    by a lower rule, so the preview does not list it as going."""
    round_ = _armed_round(min_group_agree=0.6)
    _planted_snapshot(round_)
    one_side = db.session.scalar(sa.select(Proposal).where(
        Proposal.text == "Only group one agrees"))
    db.session.add(Escalation(proposal_id=one_side.id, round_id=round_.id, kind="manual",
                              reason="Asked by the council", withdrawn_at=utcnow(),
                              withdrawal_reason="Already decided"))
    db.session.commit()
    response = client.post("/facilitate/rounds/armed/edit", headers=JA,
                           data={**VALID, "phase": "voting", "min_group_agree": "0"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    shown = page[page.index('id="rule-change"'):]
    assert "Only group one agrees" not in shown[:shown.index("</section>")]


def _version(page: str) -> str:
    return re.search(r'name="version" type="hidden" value="([^"]*)"', page).group(1)


def test_settings_saved_from_a_stale_page_overwrite_nothing_unseen(client, facilitator,
                                                                    db) -> None:
    """Two facilitators (or two tabs) edit the rule: the second save does not put back the
    first one's rule unseen; a translated 409 keeps what was typed, and sent again it
    replaces the settings knowingly."""
    client.post("/facilitate/rounds/new", data=VALID)
    stale = _version(client.get("/facilitate/rounds/town-2030/edit").get_data(as_text=True))
    first = client.post("/facilitate/rounds/town-2030/edit",
                        data={**VALID, "min_votes": "50", "version": stale})
    assert first.status_code == 303
    second = client.post("/facilitate/rounds/town-2030/edit", headers=JA,
                         data={**VALID, "title": "二つ目のタブ", "version": stale})
    assert second.status_code == 409
    page = second.get_data(as_text=True)
    assert "ほかの人がこのラウンドの設定を保存しました" in page
    assert 'value="二つ目のタブ"' in page
    round_ = db.session.scalar(sa.select(Round))
    db.session.refresh(round_)
    assert round_.policy["min_votes"] == 50 and round_.title == "Town 2030"
    again = client.post("/facilitate/rounds/town-2030/edit",
                        data={**VALID, "title": "二つ目のタブ", "version": _version(page)})
    assert again.status_code == 303
    db.session.refresh(round_)
    assert round_.title == "二つ目のタブ" and round_.policy["min_votes"] == 30


def test_settings_saved_twice_at_the_same_moment_are_stored_once(client, facilitator,
                                                                   db) -> None:
    """The other save committed between this request's read and its write: this one
    stores nothing and writes no audit entry."""
    round_ = factories.make_round(slug="town-2030", phase="draft")
    other = (sa.update(Round).where(Round.id == round_.id)
             .values(title="先に保存した題名", updated_at=utcnow()))
    with committed_first(Round, lambda: other) as raced:
        response = client.post("/facilitate/rounds/town-2030/edit", headers=JA,
                               data={**VALID, "title": "後から保存した題名"})
    assert raced
    assert response.status_code == 409
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0
    db.session.refresh(round_)
    assert round_.title == "先に保存した題名"


@pytest.mark.parametrize("armed", [True, False])
def test_escalation_armed_or_disarmed_twice_at_once_is_recorded_once(client, facilitator, db,
                                                                      armed) -> None:
    """Two facilitators (or a double click) arm, or disarm, at the same moment: the other
    request did it between this one's check and its write. One audit entry, so the public
    list of rule changes shows it once; this one is told it was already done."""
    round_ = factories.make_round(slug="arm2", phase="voting", escalation_armed=not armed)
    other = sa.update(Round).where(Round.id == round_.id).values(escalation_armed=armed)
    with committed_first(Round, lambda: other) as raced:
        response = client.post("/facilitate/rounds/arm2/escalation", headers=JA,
                               data={"action": "arm" if armed else "disarm"})
    assert raced
    assert response.status_code == 303
    page = client.get(response.headers["Location"], headers=JA).get_data(as_text=True)
    assert ("すでに" in page) and ("有効" if armed else "停止") in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0
    db.session.refresh(round_)
    assert round_.escalation_armed is armed


def test_phase_transitions(client, facilitator, db) -> None:
    round_ = factories.make_round(slug="ph", phase="draft")
    assert client.post("/facilitate/rounds/ph/phase", data={"action": "open_voting"}
                       ).status_code == 303
    db.session.refresh(round_)
    assert round_.phase == "voting" and round_.opens_at is not None
    client.post("/facilitate/rounds/ph/phase", data={"action": "close", "reason": "done"})
    db.session.refresh(round_)
    assert round_.phase == "closed" and not round_.accepts_votes
    assert pending_since(round_.id) is not None
    response = client.post("/facilitate/rounds/ph/phase", data={"action": "close"}, headers=EN)
    assert response.status_code == 409
    client.post("/facilitate/rounds/ph/phase", data={"action": "reopen"})
    db.session.refresh(round_)
    assert round_.phase == "voting"
    actions = db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["round.open_voting", "round.close", "round.reopen"]
    assert client.post("/facilitate/rounds/ph/phase", data={"action": "bogus"}).status_code == 400


def test_a_round_is_stored_without_control_characters(client, facilitator, db) -> None:
    response = client.post("/facilitate/rounds/new", data={
        **VALID, "title": "町の\x002030", "summary": "\u202e概要", "description": "説明\x00",
        "background_links": "計画\x00 | https://example.org/plan"})
    assert response.status_code == 303
    round_ = db.session.scalar(sa.select(Round))
    assert (round_.title, round_.summary, round_.description) == ("町の2030", "概要", "説明")
    assert "\x00" not in str(round_.background_links) and "計画" in str(round_.background_links)
    response = client.post(f"/facilitate/rounds/{round_.slug}/edit",
                           data={**VALID, "title": "町の\x002031"})
    assert response.status_code == 303
    db.session.refresh(round_)
    assert round_.title == "町の2031"


def test_a_note_for_the_audit_log_is_stored_without_control_characters(client, facilitator,
                                                                        db) -> None:
    """PostgreSQL refuses a NUL in text; a right-to-left override would turn the log's
    columns around on screen."""
    round_ = factories.make_round(slug="note", phase="draft")
    response = client.post("/facilitate/rounds/note/phase", data={
        "action": "open_voting", "reason": "\u202e説明会\x00のあとで開始"})
    assert response.status_code == 303
    db.session.refresh(round_)
    assert round_.phase == "voting"
    assert db.session.scalar(sa.select(AuditEntry.reason)) == "説明会のあとで開始"


def test_seed_proposals_one_and_bulk(client, facilitator, db) -> None:
    round_ = factories.make_round(slug="s1")
    factories.make_proposal(round_, "Already here")
    assert client.post("/facilitate/rounds/s1/seeds", data={"text": "One seed"}
                       ).status_code == 303
    upload = b"Second\n\n  \nalready here!\nThird,with comma\nSecond\n"
    response = client.post("/facilitate/rounds/s1/seeds", headers=EN, follow_redirects=True,
                           data={"upload": (io.BytesIO(upload), "seeds.csv")},
                           content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert "2 seed proposals added" in page
    assert "Skipped (already in the round): already here!" in page
    texts = db.session.scalars(sa.select(Proposal.text).where(Proposal.is_seed.is_(True))
                               .order_by(Proposal.id)).all()
    assert texts == ["One seed", "Second", "Third,with comma"]


def test_seeds_sent_twice_at_once_are_added_once(client, facilitator, db) -> None:
    """A double click on "add": the other copy committed its seeds while this one was
    between reading the round's proposals and writing its own."""
    round_ = factories.make_round(slug="s3")
    other = sa.insert(Proposal).values(round_id=round_.id, text="One seed",
                                       text_key=text_key("One seed"), status="published",
                                       is_seed=True)
    upload = b"One seed\nTwo seeds\n"
    with committed_first(Proposal, lambda: other) as raced:
        response = client.post("/facilitate/rounds/s3/seeds", headers=EN,
                               follow_redirects=True, content_type="multipart/form-data",
                               data={"upload": (io.BytesIO(upload), "seeds.txt")})
    assert raced
    page = response.get_data(as_text=True)
    assert "1 seed proposal added" in page
    assert "Skipped (already in the round): One seed" in page
    texts = db.session.scalars(sa.select(Proposal.text).order_by(Proposal.text)).all()
    assert texts == ["One seed", "Two seeds"]


def test_a_long_seed_file_uploaded_again_keeps_the_session_cookie_small(client, facilitator,
                                                                       db) -> None:
    """Browsers drop a cookie over 4,096 bytes, and with it the messages it carries: the
    skipped lines are named a few at a time, the rest counted."""
    factories.make_round(slug="again")
    upload = "\n".join(f"{i}番目の提案：商店街の空き店舗を子育て世代と高齢者が一緒に使える"
                       f"交流の場にし、週末には地元の農産物を売る朝市を開く（案{i * 7919 % 1000}）"
                       for i in range(150)).encode()
    for _ in range(2):
        response = client.post("/facilitate/rounds/again/seeds", headers=JA,
                               data={"upload": (io.BytesIO(upload), "seeds.txt")},
                               content_type="multipart/form-data")
        assert response.status_code == 303
        assert all(len(cookie) < 4096 for cookie in response.headers.getlist("Set-Cookie"))
    page = client.get("/facilitate/rounds/again/seeds", headers=JA).get_data(as_text=True)
    assert "スキップしました（すでにラウンドにあります）：0番目の提案" in page
    assert "ほかに147件、すでにラウンドにある提案をスキップしました。" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 150


def test_seed_bad_inputs(client, facilitator, db) -> None:
    factories.make_round(slug="s2")
    response = client.post("/facilitate/rounds/s2/seeds", headers=EN,
                           data={"upload": (io.BytesIO("日本".encode("shift_jis")), "x.txt")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    # the words of every upload that is not UTF-8 (a Pol.is export's too)
    assert ("The file is not UTF-8 text (it may be in Shift_JIS). Save it as UTF-8 (in Excel: "
            "“CSV UTF-8”) and upload it again.") in response.get_data(as_text=True)
    # A list kept in Excel is saved as Shift_JIS unless asked otherwise: the page says how.
    response = client.post("/facilitate/rounds/s2/seeds", headers=JA,
                           data={"upload": (io.BytesIO("日本".encode("shift_jis")), "x.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Shift_JIS" in page and "「CSV UTF-8」" in page
    response = client.post("/facilitate/rounds/s2/seeds", data={"text": "  "}, headers=EN)
    assert response.status_code == 400 and "No proposals given" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 0


def test_the_tab_of_the_page_shown_is_marked(client, facilitator, db) -> None:
    """The round tools named nine tabs alike on every one of their pages, so a screen
    reader (and the eye) could not tell which page was open; the round's public tabs say."""
    round_ = factories.make_round(slug="tabs", phase="voting")
    workshop = workshops.open_workshop(round_, actor=None, label="公民館", hours=1, seats=5)
    for path, tab, current in (("", "Overview", "page"), ("/moderation", "Moderation", "page"),
                               (f"/workshops/{workshop.id}", "Workshops", "true")):
        page = client.get(f"/facilitate/rounds/tabs{path}", headers=EN).get_data(as_text=True)
        nav = page[page.index('class="fac-nav"'):page.index("</nav>", page.index("fac-nav"))]
        assert re.findall(r'aria-current="(\w+)">([^<]+)<', nav) == [(current, tab)], path


def test_the_round_overview_and_presentation_have_their_own_titles(client, facilitator,
                                                                    db) -> None:
    """The public page of a round, its facilitator overview and its presentation screen
    all had the round's title alone: three tabs of the same name in a browser or a screen
    reader's window list."""
    factories.make_round(slug="titles", phase="voting", title="まちづくり")
    titles = [re.search(r"<title>([^<]*)", client.get(path, headers=JA).get_data(as_text=True))
              .group(1).split(" · ")[0]
              for path in ("/rounds/titles", "/facilitate/rounds/titles",
                           "/facilitate/rounds/titles/present")]
    assert titles == ["まちづくり", "ファシリテーション：まちづくり", "発表用画面：まちづくり"]
