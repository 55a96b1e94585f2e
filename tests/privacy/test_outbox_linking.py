"""The admin's outbox does not tell who voted on an agenda item or who wrote a proposal.

A council answer is mailed to the voters of the item who asked for it, and authors hear what
became of their proposal: such a mail names the person (its recipient) and the proposal
(its text). Mails wait in the outbox until the server takes them, for hours when it fails,
and for good where no MAIL_URL is set, so the outbox page would be a list of who voted on
which item. It shows such mails with the address shortened and without their text; the
others (confirmation, reset) as before."""

from __future__ import annotations

import sqlalchemy as sa

from app.notifications import queue_due
from deliberation.engine import escalation as escalation_engine
from deliberation.models import OutgoingMail
from deliberation.services import agenda, moderation
from tests import factories
from tests.security.conftest import client_for, quick_user

JA = {"Accept-Language": "ja"}
EN = {"Accept-Language": "en"}
ANSWERED = "図書館の開館時間を延長する"
WRITTEN = "駅前に屋根付きの駐輪場を"


def test_the_outbox_does_not_link_voters_and_authors_to_proposals(app, db) -> None:
    round_ = factories.make_round(phase="voting")
    proposal = factories.make_proposal(round_, ANSWERED)
    voter = factories.make_user(email="hanako.voter@example.org", notify_council_answers=True)
    factories.add_vote(factories.make_participant(round_, voter), proposal, 1)
    author = factories.make_user(email="taro.author@example.org")
    written = factories.make_proposal(round_, WRITTEN, status="pending",
                                      author_id=factories.make_participant(round_, author).id)
    council = factories.make_user(role="council")
    escalation = escalation_engine.escalate_manually(proposal.id, actor=council, reason="test")
    queue_due()  # the first pass starts reading the audit log from now
    moderation.moderate(round_, [written.id], "approve", actor=None)
    agenda.update_response(escalation.id, actor=council, status="answered", outcome="adopted",
                           reasons="予算を確保しました", answer="来年度から延長します。",
                           department="生涯学習課", plan_theme="", plan_layer=None, due_at=None)
    assert queue_due() == 2
    factories.make_user(email="jiro.new@example.org")
    purposes = set(db.session.scalars(sa.select(OutgoingMail.purpose)))
    assert purposes == {"council_answer", "proposal_approved"}

    admin = client_for(app, quick_user("admin"))
    for headers in (JA, EN):
        page = admin.get("/admin/mail", headers=headers)
        assert page.status_code == 200
        html = page.text
        for secret in ("hanako.voter", "taro.author", ANSWERED, WRITTEN, "来年度から延長します"):
            assert secret not in html, secret
        assert html.count("@example.org") >= 2  # the domain stays, for delivery problems
    assert "議会からの回答" in admin.get("/admin/mail", headers=JA).text
    assert "hidden" in admin.get("/admin/mail", headers=EN).text.lower()
