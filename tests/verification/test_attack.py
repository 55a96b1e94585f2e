"""The held-out attack: many fresh accounts register and vote identically, in a round open
to everyone and in a round for verified residents. Nothing they do may escalate (or hide)
a proposal, refused requests store nothing, and the evidence shows the block."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
import sqlalchemy as sa
from flask import Flask

from app.mail import make_token
from deliberation.database import db
from deliberation.engine import coordination, escalation
from deliberation.jobs.runner import refresh_and_escalate
from deliberation.models import (
    Escalation,
    EscalationReview,
    Participant,
    Proposal,
    Report,
    Round,
    User,
    Vote,
    VoteEvent,
    utcnow,
)
from deliberation.services import accounts
from deliberation.text import text_key
from tests import factories
from tests.conftest import IsolatedClient
from tests.many_votes import insert_votes

pytestmark = pytest.mark.slow  # 30 accounts vote and report through the pages, per test

# Two honest groups and a block as large as both together: every bot votes and reports
# through the pages, so the block's size is what this file costs.
N_A, N_B, N_ATTACK = 15, 15, 30
DAY = timedelta(days=1)


def honest_round(eligibility: str) -> tuple[Round, dict[str, int]]:
    """Two honest opinion groups who registered and voted over three weeks.

    "common" everyone agrees with; "a_side"/"b_side" split the groups; "contested" group A
    agrees with and group B is split on, so it does not reach the council on its own.
    """
    rng = np.random.default_rng(7)
    round_ = Round(slug=f"attack-{eligibility}", title="Attack", phase="voting",
                   eligibility=eligibility, escalation_armed=True)
    db.session.add(round_)
    db.session.flush()
    names = ["common", "a_side", "b_side", "contested", "a_two", "b_two"]
    db.session.execute(sa.insert(Proposal), [
        {"round_id": round_.id, "text": n, "text_key": text_key(n), "status": "published",
         "is_meta": False} for n in names])
    ids = dict(db.session.execute(sa.select(Proposal.text, Proposal.id).where(
        Proposal.round_id == round_.id)).tuples().all())
    start = utcnow() - 30 * DAY
    p_agree = {"common": (0.95, 0.95), "a_side": (0.9, 0.05), "b_side": (0.05, 0.9),
               "contested": (0.9, 0.4), "a_two": (0.9, 0.1), "b_two": (0.1, 0.9)}
    events = []
    for i in range(N_A + N_B):
        in_a = i < N_A
        created = start + i * timedelta(hours=9)
        user = User(email=f"honest{i}@example.org", display_name=f"H{i}", kind="resident",
                    consent_version="t", consented_at=created, created_at=created,
                    is_verified=True, password_hash="x")
        db.session.add(user)
        db.session.flush()
        participant = Participant(round_id=round_.id, user_id=user.id, source="account",
                                  kind="resident", created_at=created)
        db.session.add(participant)
        db.session.flush()
        for name in names:
            chance = p_agree[name][0 if in_a else 1]
            value = 1 if rng.random() < chance else -1
            events.append({"round_id": round_.id, "participant_id": participant.id,
                           "proposal_id": ids[name], "value": value,
                           "created_at": created + timedelta(minutes=5)})
    insert_votes(events, source="web")
    db.session.commit()
    return round_, ids


def register(app: Flask, n: int, *, confirm: bool = False) -> IsolatedClient:
    """The first bot registers, logs in and (confirms) through the pages; the others get the
    same account from the services those pages call, in the same burst, and a session of
    their own. Their votes and reports, the attack itself, all go through the pages."""
    client = app.test_client()
    email = f"bot{n}@example.net"
    if n == 0:
        response = client.post("/auth/register", data={
            "email": email, "display_name": f"bot{n}", "kind": "resident",
            "password": "bot-password-1", "password2": "bot-password-1", "consent": "y"})
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        response = client.post("/auth/login", data={"email": email,
                                                    "password": "bot-password-1"})
        assert response.status_code == 303 and "/auth/login" not in response.headers["Location"]
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if confirm:  # the bot reads its mailbox and opens the confirmation link
            token = make_token("confirm-email", {"u": user.id, "e": email})
            assert client.post(f"/auth/confirm/{token}").status_code == 303
    else:
        user, created = accounts.register_or_existing(
            email=email, password="bot-password-1", display_name=f"bot{n}", kind="resident",
            consent_version=app.config["CONSENT_VERSION"])
        assert created
        db.session.commit()
        if confirm:
            accounts.confirm_email(user, email)
        factories.log_in(client, user)
    db.session.refresh(user)
    assert user.verification_level == ("email" if confirm else "unverified")
    return client


SCRIPT = {"common": 1, "a_side": -1, "b_side": 1, "contested": 1, "a_two": -1, "b_two": 1}


def attack(app: Flask, round_: Round, ids: dict[str, int], *, confirm: bool = False,
           noise: float = 0.0, channel: str = "form") -> list[int]:
    """Register N_ATTACK accounts and vote like group B, but agree on "contested"; with
    ``noise``, each vote is flipped with that chance (so the bots are not all identical).
    ``channel``: the vote form or the JSON API."""
    rng = np.random.default_rng(11)
    statuses = []
    for n in range(N_ATTACK):
        client = register(app, n, confirm=confirm)
        for name, value in SCRIPT.items():
            if name != "contested" and rng.random() < noise:
                value = -value
            if channel == "api":
                response = client.post(f"/api/v1/rounds/{round_.slug}/votes",
                                       json={"proposal_id": ids[name], "value": value})
            else:
                response = client.post(f"/rounds/{round_.slug}/vote", data={
                    "proposal_id": ids[name], "value": str(value)})
            statuses.append(response.status_code)
        # and they all report the proposal everyone agrees with
        statuses.append(client.post(
            f"/rounds/{round_.slug}/proposals/{ids['common']}/report",
            data={"reason": "spam"}).status_code)
    return statuses


def count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


VARIANTS = [
    pytest.param(False, 0.0, "form", id="unconfirmed-identical-form"),
    pytest.param(True, 0.0, "form", id="confirmed-identical-form"),
    pytest.param(True, 0.1, "api", id="confirmed-noisy-api"),
    pytest.param(False, 0.1, "form", id="unconfirmed-noisy-form"),
]


@pytest.mark.parametrize(("confirm", "noise", "channel"), VARIANTS)
def test_open_round_block_cannot_push_or_hide_a_proposal(app: Flask, db, confirm: bool,
                                                         noise: float, channel: str) -> None:
    round_, ids = honest_round("everyone")
    before = refresh_and_escalate(round_.id)
    assert before.statistics["coordinated_blocks"] == []  # honest people are not flagged
    escalated_before = set(db.session.scalars(sa.select(Escalation.proposal_id)))
    # the rule works on this round: what both groups agree with reaches the council
    assert ids["common"] in escalated_before
    assert ids["contested"] not in escalated_before

    votes_before = count(Vote)
    statuses = attack(app, round_, ids, confirm=confirm, noise=noise, channel=channel)
    # an open round: their votes count as votes, and their reports are kept
    assert set(statuses) == {200 if channel == "api" else 303, 303}
    assert count(Vote) == votes_before + N_ATTACK * 6
    snap = refresh_and_escalate(round_.id)

    blocks = snap.statistics["coordinated_blocks"]
    bots = set(db.session.scalars(sa.select(Participant.id).join(User).where(
        User.email.like("bot%"))))
    assert len(blocks) == 1 and set(blocks[0]["participant_ids"]) == bots

    escalated = set(db.session.scalars(sa.select(Escalation.proposal_id)))
    assert ids["contested"] not in escalated
    # reports from a burst of new accounts are kept for the moderators but hide nothing
    assert db.session.get(Proposal, ids["common"]).status == "published"
    assert count(Report) == N_ATTACK
    # Whatever the clustering made of them: every proposal that passes the rule only with
    # the block's votes waits for a facilitator, and nothing escalated needs the block.
    decisions = escalation.snapshot_decisions(snap, round_.policy, list(ids.values()))
    without = coordination.decisions_without(snap, round_.policy, list(ids.values()), bots)
    for pid in escalated:
        assert without[pid].escalate
    held = {pid for pid in ids.values()
            if decisions[pid].escalate and not without[pid].escalate}
    reviews = {r.proposal_id: r for r in db.session.scalars(sa.select(EscalationReview))}
    assert set(reviews) == held
    for review in reviews.values():
        assert review.status == "pending"
        assert review.evidence["blocks"][0]["size"] == N_ATTACK


@pytest.mark.parametrize(("confirm", "noise", "channel"), [
    pytest.param(False, 0.0, "form", id="unconfirmed-identical-form"),
    pytest.param(True, 0.1, "api", id="confirmed-noisy-api"),
])
def test_verified_round_refuses_them_and_stores_nothing(app: Flask, db, confirm: bool,
                                                        noise: float, channel: str) -> None:
    round_, ids = honest_round("verified")
    participants, votes, events = count(Participant), count(Vote), count(VoteEvent)
    statuses = attack(app, round_, ids, confirm=confirm, noise=noise, channel=channel)
    # refused: the API answers 403 with why; the vote form sends back to the round with why
    assert set(statuses) == ({403} if channel == "api" else {303, 403})
    assert (count(Participant), count(Vote), count(VoteEvent)) == (participants, votes, events)
    assert count(Report) == 0 and db.session.get(Proposal, ids["common"]).status == "published"
    refresh_and_escalate(round_.id)
    assert ids["contested"] not in set(db.session.scalars(sa.select(Escalation.proposal_id)))


@pytest.mark.usefixtures("db")
def test_a_facilitator_in_the_block_cannot_decide_its_review(app: Flask) -> None:
    """A facilitator who voted with a burst of accounts of their own is one of the block:
    the review it caused is for someone else to decide, as paper votes are not their
    typist's."""
    round_, ids = honest_round("everyone")
    refresh_and_escalate(round_.id)
    attack(app, round_, ids)
    refresh_and_escalate(round_.id)
    review = db.session.scalar(sa.select(EscalationReview).where(
        EscalationReview.proposal_id == ids["contested"]))
    assert review is not None and review.status == "pending"
    insider = db.session.scalar(sa.select(User).where(User.email == "bot0@example.net"))
    insider.role = "facilitator"
    db.session.commit()
    client = app.test_client()
    factories.log_in(client, insider)
    for action in ("approve", "dismiss"):
        refused = client.post(f"/facilitate/rounds/{round_.slug}/reviews/{review.id}",
                              data={"action": action, "reason": "本物の住民です"},
                              headers={"Accept-Language": "ja"}, follow_redirects=True)
        db.session.refresh(review)
        assert review.status == "pending", action
        assert "ほかのファシリテーターか管理者が判断" in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(Escalation.id).where(
        Escalation.proposal_id == ids["contested"])) is None
    # nor send it by hand once someone else did not send it
    other = factories.make_user("facilitator")
    factories.log_in(client, other)
    assert client.post(f"/facilitate/rounds/{round_.slug}/reviews/{review.id}", data={
        "action": "dismiss", "reason": "登録が一度に集中しています"}).status_code == 303
    factories.log_in(client, db.session.get(User, insider.id))
    refused = client.post(f"/agenda/manage/rounds/{round_.slug}/escalate", data={
        "proposal_id": ids["contested"], "reason": "住民の要望"},
        headers={"Accept-Language": "ja"})
    assert refused.status_code == 409
    assert "ほかのファシリテーターか管理者が判断" in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(Escalation.id).where(
        Escalation.proposal_id == ids["contested"])) is None
