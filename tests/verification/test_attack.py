"""The held-out attack: many fresh accounts register and vote identically, in a round open
to everyone and in a round for verified residents. Nothing they do may escalate (or hide)
a proposal, refused requests store nothing, and the evidence shows the block."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import sqlalchemy as sa
from flask import Flask

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
)
from deliberation.models._common import utcnow
from deliberation.text import text_key
from tests.conftest import IsolatedClient

N_A, N_B, N_ATTACK = 30, 30, 40
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
    votes, events = [], []
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
            votes.append({"round_id": round_.id, "participant_id": participant.id,
                          "proposal_id": ids[name], "value": value})
            events.append({**votes[-1], "source": "web",
                           "created_at": created + timedelta(minutes=5)})
    db.session.execute(sa.insert(Vote), votes)
    db.session.execute(sa.insert(VoteEvent), events)
    db.session.commit()
    return round_, ids


def register(app: Flask, n: int) -> IsolatedClient:
    client = app.test_client()
    response = client.post("/auth/register", data={
        "email": f"bot{n}@example.net", "display_name": f"bot{n}", "kind": "resident",
        "password": "bot-password-1", "password2": "bot-password-1", "consent": "y"})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    # not confirmed: the e-mail's link is never opened, but the account can log in
    response = client.post("/auth/login", data={"email": f"bot{n}@example.net",
                                                "password": "bot-password-1"})
    assert response.status_code == 303 and "/auth/login" not in response.headers["Location"]
    return client


def attack(app: Flask, round_: Round, ids: dict[str, int]) -> list[int]:
    """Register N_ATTACK accounts and vote like group B, but agree on "contested"."""
    script = {"common": 1, "a_side": -1, "b_side": 1, "contested": 1, "a_two": -1, "b_two": 1}
    statuses = []
    for n in range(N_ATTACK):
        client = register(app, n)
        for name, value in script.items():
            statuses.append(client.post(f"/rounds/{round_.slug}/vote", data={
                "proposal_id": ids[name], "value": str(value)}).status_code)
        # and they all report the proposal everyone agrees with
        client.post(f"/rounds/{round_.slug}/proposals/{ids['common']}/report",
                    data={"reason": "spam"})
    return statuses


def count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_open_round_block_cannot_push_a_proposal(app: Flask, db) -> None:
    round_, ids = honest_round("everyone")
    before = refresh_and_escalate(round_.id)
    assert before.statistics["coordinated_blocks"] == []  # honest people are not flagged
    escalated_before = set(db.session.scalars(sa.select(Escalation.proposal_id)))
    assert ids["contested"] not in escalated_before

    votes_before = count(Vote)
    statuses = attack(app, round_, ids)
    assert set(statuses) == {303}  # an open round: their votes count as votes
    assert count(Vote) == votes_before + N_ATTACK * 6
    snap = refresh_and_escalate(round_.id)

    blocks = snap.statistics["coordinated_blocks"]
    bots = set(db.session.scalars(sa.select(Participant.id).join(User).where(
        User.email.like("bot%"))))
    assert len(blocks) == 1 and set(blocks[0]["participant_ids"]) == bots

    escalated = set(db.session.scalars(sa.select(Escalation.proposal_id)))
    assert ids["contested"] not in escalated
    # unconfirmed accounts' reports are kept for the moderators but hide nothing
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


def test_verified_round_refuses_them_and_stores_nothing(app: Flask, db) -> None:
    round_, ids = honest_round("verified")
    participants, votes, events = count(Participant), count(Vote), count(VoteEvent)
    statuses = attack(app, round_, ids)
    assert set(statuses) <= {303, 403}  # refused (the page then explains why)
    assert (count(Participant), count(Vote), count(VoteEvent)) == (participants, votes, events)
    assert count(Report) == 0 and db.session.get(Proposal, ids["common"]).status == "published"
    refresh_and_escalate(round_.id)
    assert ids["contested"] not in set(db.session.scalars(sa.select(Escalation.proposal_id)))
