"""Held escalations: what the facilitator sees, approve and dismiss (audited)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from deliberation.database import db
from deliberation.engine import escalation
from deliberation.errors import Conflict, DomainError
from deliberation.models import AuditEntry, Escalation, EscalationReview, utcnow
from tests.factories import make_proposal, make_round, make_user
from tests.races import committed_first

EVIDENCE = {
    "blocks": [{"size": 40, "similarity": 1.0, "span_seconds": 70.0, "n_votes": 6}],
    "decisive": True, "snapshot_id": None,
    "with_blocks": {"escalate": True, "total_votes": 100, "support": 0.65},
    "without_blocks": {"escalate": False, "reasons": ["group_below_threshold"],
                       "total_votes": 60, "support": 0.24},
}


def held(round_=None) -> EscalationReview:
    round_ = round_ or make_round(phase="voting")
    review = EscalationReview(proposal_id=make_proposal(round_, "Bus to the hospital").id,
                              round_id=round_.id, evidence=EVIDENCE)
    db.session.add(review)
    db.session.commit()
    return review


def test_facilitator_sees_why_in_japanese_and_approves(client, login_as, db) -> None:
    review = held()
    facilitator = login_as("facilitator")
    slug = review.proposal.round.slug
    page = client.get(f"/facilitate/rounds/{slug}", headers={"Accept-Language": "ja"})
    text = page.get_data(as_text=True)
    assert "Bus to the hospital" in text
    assert "40" in text and "2分" in text and "ファシリテーター" in text
    response = client.post(f"/facilitate/rounds/{slug}/reviews/{review.id}",
                           data={"action": "approve", "reason": "Checked: real residents"})
    assert response.status_code == 303
    db.session.refresh(review)
    assert review.status == "approved" and review.decided_by_id == facilitator.id
    esc = db.session.scalar(sa.select(Escalation))
    assert esc.proposal_id == review.proposal_id and esc.escalated_by_id == facilitator.id
    assert esc.evidence["coordination"]["blocks"][0]["size"] == 40
    actions = set(db.session.scalars(sa.select(AuditEntry.action)))
    assert {"escalation.review_approved", "escalation.automatic"} <= actions


def test_a_review_decided_by_someone_else_meanwhile_is_not_decided_again(client, login_as,
                                                                        db) -> None:
    """Two facilitators answer the same held escalation at the same moment: the other one
    dismissed it between this request's check and its write."""
    review = held()
    login_as("facilitator")
    other = make_user("facilitator")
    dismissed = sa.update(EscalationReview).where(EscalationReview.id == review.id).values(
        status="dismissed", decided_by_id=other.id, decided_at=utcnow(), reason="Scripted")
    slug = review.proposal.round.slug
    with committed_first(EscalationReview, lambda: dismissed) as raced:
        response = client.post(f"/facilitate/rounds/{slug}/reviews/{review.id}",
                               data={"action": "approve", "reason": "Checked"},
                               headers={"Accept-Language": "en"}, follow_redirects=True)
    assert raced
    assert "already been decided" in response.get_data(as_text=True)
    db.session.refresh(review)
    assert (review.status, review.decided_by_id, review.reason) == \
        ("dismissed", other.id, "Scripted")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Escalation)) == 0


def test_dismiss_needs_a_reason_and_escalates_nothing(client, login_as, db) -> None:
    review = held()
    login_as("facilitator")
    slug = review.proposal.round.slug
    client.post(f"/facilitate/rounds/{slug}/reviews/{review.id}",
                data={"action": "dismiss", "reason": " "})
    db.session.refresh(review)
    assert review.status == "pending"
    client.post(f"/facilitate/rounds/{slug}/reviews/{review.id}",
                data={"action": "dismiss", "reason": "\x00"})  # nothing but a NUL
    db.session.refresh(review)
    assert review.status == "pending"
    client.post(f"/facilitate/rounds/{slug}/reviews/{review.id}",
                data={"action": "dismiss", "reason": "Scripted\x00 accounts"})
    db.session.refresh(review)
    assert (review.status, review.reason) == ("dismissed", "Scripted accounts")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Escalation)) == 0


def test_citizens_cannot_decide_and_other_rounds_are_404(client, login_as, db) -> None:
    review = held()
    other = make_round(phase="voting")
    login_as("citizen")
    url = f"/facilitate/rounds/{review.proposal.round.slug}/reviews/{review.id}"
    assert client.post(url, data={"action": "approve", "reason": "x"}).status_code == 403
    login_as("facilitator")
    assert client.post(f"/facilitate/rounds/{other.slug}/reviews/{review.id}",
                       data={"action": "approve", "reason": "x"}).status_code == 404
    db.session.refresh(review)
    assert review.status == "pending"


def test_decide_refuses_bad_actions_and_second_decisions(db) -> None:
    review = held()
    actor = make_user("facilitator")
    with pytest.raises(DomainError):
        escalation.decide_review(review.id, "delete", actor=actor, reason="x")
    escalation.decide_review(review.id, "dismiss", actor=actor, reason="x")
    with pytest.raises(Conflict):
        escalation.decide_review(review.id, "approve", actor=actor, reason="x")


def test_a_refused_decision_leads_to_its_reason_not_down_to_the_reviews(client, login_as,
                                                                        db) -> None:
    """The reason a decision is refused (no reason given, here) is a message at the top of
    the round's page: the answer must not jump down to the held escalation, where it
    would be out of sight and the page would look as if nothing had been pressed."""
    review = held()
    login_as("facilitator")
    slug = review.proposal.round.slug
    response = client.post(f"/facilitate/rounds/{slug}/reviews/{review.id}",
                           data={"action": "approve", "reason": ""}, headers={"Accept-Language": "en"})
    assert response.status_code == 303 and "#" not in response.headers["Location"]
    page = client.get(response.headers["Location"], headers={"Accept-Language": "en"})
    assert "flash-error" in page.get_data(as_text=True)
    db.session.refresh(review)
    assert review.status == "pending"
