"""Moderation queue, decisions, reports, audit log page and CSV export."""

from __future__ import annotations

import csv
import io
import re

import sqlalchemy as sa

from deliberation.models import AuditEntry, Report
from deliberation.services.health import pending_since
from tests import factories
from tests.facilitate.conftest import EN


def _setup(db):
    round_ = factories.make_round(slug="m1", moderation_mode="strict")
    author = factories.make_participant(round_, factories.make_user(kind="e_citizen"))
    factories.make_proposal(round_, "駅前に屋根付きの駐輪場を増やす")
    pending = factories.make_proposal(round_, "駅前に屋根付き駐輪場を増やしてほしい",
                                      status="pending", author_id=author.id)
    other = factories.make_proposal(round_, "Totally unrelated", status="pending")
    reported = factories.make_proposal(round_, "Rude words", status="hidden", report_count=3)
    reporter = factories.make_user()
    db.session.add(Report(proposal_id=reported.id, reporter_id=reporter.id, reason="insulting"))
    db.session.commit()
    return round_, pending, other, reported


def test_queue_shows_pending_reported_and_similar(client, facilitator, db) -> None:
    _setup(db)
    page = client.get("/facilitate/rounds/m1/moderation", headers=EN).get_data(as_text=True)
    assert "駅前に屋根付き駐輪場を増やしてほしい" in page
    assert "Similar proposals already in the round" in page
    # the share says what it measures, not a bare percentage beside the proposal
    assert re.search(r"\(\d+% similar\)", page)
    assert "E-citizen" in page
    assert "insulting" in page and "Hidden after reports" in page
    fragment = client.get("/facilitate/rounds/m1/moderation",
                          headers={**EN, "HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "Approve selected" in fragment


def test_queue_shows_near_copies_waiting_together_as_similar(client, facilitator, db) -> None:
    """Near-copies sent at once all wait for review: each shows the others, marked as
    waiting, so a facilitator does not approve one idea four times (its votes split)."""
    round_ = factories.make_round(slug="m2", phase="voting", moderation_mode="strict")
    texts = ["バス停にベンチを置いてほしい", "バス停にベンチを置いてほしいです",
             "バス停にベンチを置いて欲しい"]
    for text in texts:
        factories.make_proposal(round_, text, status="pending",
                                author_id=factories.make_participant(round_).id)
    page = client.get("/facilitate/rounds/m2/moderation", headers={"Accept-Language": "ja"})
    text = page.get_data(as_text=True)
    assert text.count("ラウンド内の似た提案") == len(texts)
    assert text.count("（確認待ち）") >= len(texts) * (len(texts) - 1)


def test_reject_needs_reason_then_bulk_actions(client, facilitator, db) -> None:
    round_, pending, other, reported = _setup(db)
    response = client.post("/facilitate/rounds/m1/moderation", headers=EN,
                           data={"proposal_id": [pending.id], "action": "reject"})
    assert response.status_code == 400
    assert "A reason is required" in response.get_data(as_text=True)
    # the reason field is the one marked, and says why (with and without htmx)
    for headers in (EN, {**EN, "HX-Request": "true"}):
        page = client.post("/facilitate/rounds/m1/moderation", headers=headers, data={
            "proposal_id": [pending.id], "action": "reject"}).get_data(as_text=True)
        field = re.search(r'<input[^>]*id="reason"[^>]*>', page).group(0)
        assert 'aria-invalid="true"' in field and 'aria-describedby="moderation-error"' in field
        # the message takes the focus: a live region there at load is not read out
        assert 'id="moderation-error" tabindex="-1" autofocus>A reason is required' in page
    db.session.refresh(pending)
    assert pending.status == "pending"
    response = client.post("/facilitate/rounds/m1/moderation", data={
        "proposal_id": [pending.id, other.id], "action": "reject", "reason": "Off topic"})
    assert response.status_code == 303
    db.session.refresh(pending)
    assert pending.status == "rejected" and pending.rejection_reason == "Off topic"
    assert pending.moderated_at is not None
    client.post("/facilitate/rounds/m1/moderation",
                data={"proposal_id": [reported.id], "action": "restore"})
    db.session.refresh(reported)
    assert reported.status == "published" and reported.report_count == 0
    report = db.session.scalar(sa.select(Report))
    assert report.resolution == "dismissed" and report.resolved_at is not None
    client.post("/facilitate/rounds/m1/moderation",
                data={"proposal_id": [reported.id], "action": "meta"})
    db.session.refresh(reported)
    assert reported.is_meta
    db.session.refresh(round_)
    assert pending_since(round_.id) is not None
    actions = db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["proposal.reject", "proposal.reject", "proposal.restore", "proposal.meta"]


def test_moderation_rejects_foreign_ids_and_unknown_action(client, facilitator, db) -> None:
    _setup(db)
    elsewhere = factories.make_proposal(factories.make_round(), "x", status="pending")
    response = client.post("/facilitate/rounds/m1/moderation", headers=EN,
                           data={"proposal_id": [elsewhere.id], "action": "approve"})
    assert response.status_code == 400 and "not in this round" in response.get_data(as_text=True)
    for action in ("approve", "reject"):  # nothing selected is said before a missing reason
        response = client.post("/facilitate/rounds/m1/moderation", headers=EN,
                               data={"proposal_id": [], "action": action})
        assert 'tabindex="-1" autofocus>Select at least one' in response.get_data(as_text=True)
    response = client.post("/facilitate/rounds/m1/moderation", headers=EN,
                           data={"proposal_id": [elsewhere.id], "action": "nuke"})
    assert "Unknown moderation action" in response.get_data(as_text=True)


def test_audit_pages_and_csv_with_bom(client, facilitator, db) -> None:
    _round, pending, _other, _reported = _setup(db)
    client.post("/facilitate/rounds/m1/moderation", data={
        "proposal_id": [pending.id], "action": "reject", "reason": "重複しています"})
    page = client.get("/facilitate/rounds/m1/audit", headers=EN).get_data(as_text=True)
    assert "Proposal rejected" in page and "重複しています" in page
    assert "proposal.reject" not in page  # the action in words, never its code
    assert client.get("/facilitate/audit").status_code == 200
    response = client.get("/facilitate/rounds/m1/audit?format=csv")
    assert response.mimetype == "text/csv"
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    rejected = next(r for r in rows if r["操作"] == "提案を却下")
    assert rejected["理由"] == "重複しています" and rejected["ラウンド"] == _round.title


def test_open_rounds_queue_unreviewed_participant_proposals(client, facilitator, db) -> None:
    round_ = factories.make_round(slug="o1", moderation_mode="open")
    author = factories.make_participant(round_, factories.make_user())
    imported = factories.make_participant(round_, source="import", external_id="5")
    fresh = factories.make_proposal(round_, "Fresh idea", author_id=author.id)
    factories.make_proposal(round_, "Imported idea", author_id=imported.id)
    factories.make_proposal(round_, "Seed idea", is_seed=True)
    page = client.get("/facilitate/rounds/o1/moderation", headers=EN).get_data(as_text=True)
    assert "Fresh idea" in page and "Published, not reviewed yet" in page
    assert "Imported idea" not in page and "Seed idea" not in page
    client.post("/facilitate/rounds/o1/moderation",
                data={"proposal_id": [fresh.id], "action": "approve"})
    page = client.get("/facilitate/rounds/o1/moderation", headers=EN).get_data(as_text=True)
    assert "Fresh idea" not in page


def test_approving_a_pending_proposal_casts_the_authors_agree_vote(client, facilitator, db) -> None:
    from deliberation.models import Vote

    _round, pending, _other, _reported = _setup(db)
    client.post("/facilitate/rounds/m1/moderation",
                data={"proposal_id": [pending.id], "action": "approve"})
    vote = db.session.scalar(sa.select(Vote).where(Vote.proposal_id == pending.id))
    assert vote is not None and vote.value == 1 and vote.participant_id == pending.author_id


def _seen(page: str) -> list[str]:
    import re

    return re.findall(r'<input type="hidden" name="seen" value="([^"]+)">', page)


def test_a_decision_from_a_page_opened_before_another_is_refused(client, facilitator, db) -> None:
    """Two facilitators (or two tabs) open the queue; one approves, the other then rejects
    from the page they still have: the second decision changes nothing and says why."""
    from deliberation.services import moderation

    round_, pending, other, _ = _setup(db)
    seen = _seen(client.get("/facilitate/rounds/m1/moderation").get_data(as_text=True))
    assert f"{pending.id}:pending:0" in seen
    colleague = factories.make_user("facilitator")
    moderation.moderate(round_, [pending.id], "approve", actor=colleague)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    response = client.post("/facilitate/rounds/m1/moderation",
                           headers={"Accept-Language": "ja"},
                           data={"proposal_id": [pending.id, other.id], "action": "reject",
                                 "reason": "重複", "seen": seen})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "このページを開いたあとに、ほかの人が選んだ提案を判断しました" in page
    db.session.expire_all()
    assert (pending.status, other.status) == ("published", "pending")  # neither changed
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == before
    # the fresh list, as it stands now, lets them decide again
    seen = _seen(page)
    assert f"{other.id}:pending:0" in seen and f"{pending.id}:pending:0" not in seen
    again = client.post("/facilitate/rounds/m1/moderation", headers=EN,
                        data={"proposal_id": [other.id], "action": "reject",
                              "reason": "off topic", "seen": seen})
    assert again.status_code == 303
    db.session.expire_all()
    assert other.status == "rejected"


def test_two_decisions_at_once_change_a_proposal_once(client, facilitator, db) -> None:
    from deliberation.models import Proposal
    from tests.races import committed_first

    _, pending, _, _ = _setup(db)
    seen = _seen(client.get("/facilitate/rounds/m1/moderation").get_data(as_text=True))
    decided = (sa.update(Proposal).where(Proposal.id == pending.id)
               .values(status="rejected", rejection_reason="spam", moderated_at=sa.func.now()))
    with committed_first(Proposal, lambda: decided) as done:
        response = client.post("/facilitate/rounds/m1/moderation", headers=EN,
                               data={"proposal_id": [pending.id], "action": "approve",
                                     "seen": seen})
    assert done and response.status_code == 409
    db.session.expire_all()
    assert pending.status == "rejected" and pending.rejection_reason == "spam"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "proposal.approve")) == 0


def test_what_the_page_showed_is_ignored_when_it_is_not_the_page_s(client, facilitator,
                                                                   db) -> None:
    """A forged or mangled ``seen`` value is no guard and no error: the decision is made on
    the proposal as it stands, never a 500."""
    _, pending, _, _ = _setup(db)
    forged = ["x:y", "", ":::", f"{pending.id}:pending:2", "99999999999999999999:pending:0",
              f"{pending.id}", "١٢:pending:0"]
    response = client.post("/facilitate/rounds/m1/moderation", headers=EN,
                           data={"proposal_id": [pending.id], "action": "approve",
                                 "seen": forged})
    assert response.status_code == 303
    db.session.expire_all()
    assert pending.status == "published"
