"""Notification mails from the audit log: authors and opted-in voters, each once."""

from __future__ import annotations

from datetime import timedelta

from deliberation.engine import escalation as escalation_engine
from deliberation.models import utcnow
from deliberation.services import agenda, moderation
from tests import factories


def _author_and_proposal(round_, **user):
    author = factories.make_user(**user)
    participant = factories.make_participant(round_, author)
    proposal = factories.make_proposal(round_, "駅前に屋根付きの駐輪場を", author_id=participant.id,
                                       status="pending")
    return author, participant, proposal


def _start(mailbox) -> None:
    mailbox.deliver()  # the first pass starts reading the audit log from now


def test_author_hears_of_rejection_with_the_reason(db, mailbox) -> None:
    round_ = factories.make_round(phase="voting")
    _author, _participant, proposal = _author_and_proposal(round_, email="a@example.org")
    staff = factories.make_user(role="facilitator")
    _start(mailbox)
    moderation.moderate(round_, [proposal.id], "reject", actor=staff, reason="個人名が含まれています")
    [message] = mailbox.deliver()
    assert message["To"] == "a@example.org"
    assert "公開されませんでした" in str(message["Subject"])
    text = mailbox.text(message)
    assert "個人名が含まれています" in text and "駅前に屋根付きの駐輪場を" in text
    assert "/account/unsubscribe/" in text
    assert "このメールは送信専用です。" in text  # not the faulty keigo 「お読みできません」
    assert mailbox.deliver() == []  # once


def test_author_hears_of_approval_and_escalation_in_english_if_chosen(db, mailbox) -> None:
    round_ = factories.make_round(phase="voting")
    _author, _participant, proposal = _author_and_proposal(round_, email="a@example.org",
                                                           locale="en")
    staff = factories.make_user(role="facilitator")
    _start(mailbox)
    moderation.moderate(round_, [proposal.id], "approve", actor=staff)
    escalation_engine.escalate_manually(proposal.id, actor=staff, reason="important")
    subjects = [str(m["Subject"]) for m in mailbox.deliver()]
    assert subjects == ["Your proposal has been published", "Your proposal is on the council's agenda"]


def test_opted_out_author_hears_nothing(db, mailbox) -> None:
    round_ = factories.make_round(phase="voting")
    _author, _p, proposal = _author_and_proposal(round_, notify_own_proposals=False)
    _start(mailbox)
    moderation.moderate(round_, [proposal.id], "approve", actor=None)
    assert mailbox.deliver() == []


def test_voters_who_opted_in_hear_the_council_answer(db, mailbox) -> None:
    round_ = factories.make_round(phase="voting")
    proposal = factories.make_proposal(round_, "図書館の開館時間を延長する")
    opted_in = factories.make_user(email="yes@example.org", notify_council_answers=True)
    opted_out = factories.make_user(email="no@example.org")
    bystander = factories.make_user(email="other@example.org", notify_council_answers=True)
    for voter in (opted_in, opted_out):
        factories.add_vote(factories.make_participant(round_, voter), proposal, 1)
    factories.make_participant(round_, bystander)
    council = factories.make_user(role="council")
    esc = escalation_engine.escalate_manually(proposal.id, actor=council, reason="test")
    _start(mailbox)
    agenda.update_response(esc.id, actor=council, status="under_review", outcome=None,
                           reasons="", answer="", department="", plan_theme="",
                           plan_layer=None, due_at=None)
    assert mailbox.deliver() == []  # not an answer yet
    agenda.update_response(esc.id, actor=council, status="answered", outcome="adopted",
                           reasons="予算を確保しました", answer="来年度から延長します。",
                           department="生涯学習課", plan_theme="", plan_layer=None,
                           due_at=utcnow() + timedelta(days=30))
    [message] = mailbox.deliver()
    assert message["To"] == "yes@example.org"
    assert "来年度から延長します。" in mailbox.text(message)
    assert "結果：採択" in mailbox.text(message)  # without opening the link
    assert "https://hiroba.example/agenda/items/" in mailbox.text(message)
    # A changed outcome sends the mail again: it says which outcome is now the answer.
    agenda.update_response(esc.id, actor=council, status="answered", outcome="partly_adopted",
                           reasons="予算は半分です", answer="来年度から延長します。",
                           department="生涯学習課", plan_theme="", plan_layer=None,
                           due_at=utcnow() + timedelta(days=30))
    [again] = mailbox.deliver()
    assert "結果：一部採択" in mailbox.text(again)


def test_the_answer_banner_offers_mail_to_voters_not_yet_subscribed(app, client, db) -> None:
    from tests.security.conftest import client_for

    round_ = factories.make_round(phase="voting")
    proposal = factories.make_proposal(round_, "図書館の開館時間を延長する")
    voter = factories.make_user()
    subscribed = factories.make_user(notify_council_answers=True)
    for user in (voter, subscribed):
        factories.add_vote(factories.make_participant(round_, user), proposal, 1)
    council = factories.make_user(role="council")
    esc = escalation_engine.escalate_manually(proposal.id, actor=council, reason="test")
    agenda.update_response(esc.id, actor=council, status="answered", outcome="adopted",
                           reasons="r", answer="a", department="", plan_theme="",
                           plan_layer=None, due_at=None)
    page = client_for(app, voter).get("/", headers={"Accept-Language": "ja"}).text
    assert "議会の回答をメールで受け取る" in page and "#mail-notifications" in page
    page = client_for(app, subscribed).get("/", headers={"Accept-Language": "ja"}).text
    assert "議会の回答をメールで受け取る" not in page
