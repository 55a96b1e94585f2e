"""Slow sybils: accounts registered one every few days, far apart, that all cast the same
script of answers. No burst links them, so only voting exactly alike can: what they alone
push over the rule waits for a facilitator, who reads why in Japanese. Honest residents
who voted on the same proposals over the same weeks are not flagged."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
import sqlalchemy as sa
from flask import Flask

from deliberation.database import db
from deliberation.jobs.runner import refresh_and_escalate
from deliberation.models import (
    Escalation,
    EscalationReview,
    Participant,
    Proposal,
    Round,
    Vote,
    VoteEvent,
    utcnow,
)
from deliberation.text import text_key
from tests.factories import make_participant, make_user

DAY = timedelta(days=1)
N_A, N_B, N_BOTS = 15, 15, 12
# Sixteen proposals: "common" everyone agrees with; seven each that group A or B agrees
# with and the other does not; "contested" group A agrees with and group B is split on.
SIDES = [f"a{n}" for n in range(7)] + [f"b{n}" for n in range(7)]
NAMES = ["common", "contested", *SIDES]


def _person(round_: Round, name: str, created) -> Participant:
    user = make_user(email=f"{name}@example.org", display_name=name, created_at=created,
                     is_verified=True)
    return make_participant(round_, user, created_at=created)


def _vote(round_: Round, participant: Participant, ids: dict[str, int],
          answers: dict[str, int], when) -> None:
    for name, value in answers.items():
        db.session.add(Vote(round_id=round_.id, participant_id=participant.id,
                            proposal_id=ids[name], value=value))
        db.session.add(VoteEvent(round_id=round_.id, participant_id=participant.id,
                                 proposal_id=ids[name], value=value, source="web",
                                 created_at=when))


def slow_attack() -> tuple[Round, dict[str, int], set[int]]:
    rng = np.random.default_rng(21)
    round_ = Round(slug="slow", title="Slow", phase="voting", eligibility="everyone",
                   escalation_armed=True)
    db.session.add(round_)
    db.session.flush()
    db.session.execute(sa.insert(Proposal), [
        {"round_id": round_.id, "text": n, "text_key": text_key(n), "status": "published",
         "is_meta": False} for n in NAMES])
    ids = dict(db.session.execute(sa.select(Proposal.text, Proposal.id).where(
        Proposal.round_id == round_.id)).tuples().all())
    start = utcnow() - 40 * DAY
    for i in range(N_A + N_B):
        in_a = i < N_A
        created = start + i * timedelta(hours=9)
        chances = {"common": 0.95, "contested": 0.9 if in_a else 0.4,
                   **{n: 0.9 if (n[0] == "a") == in_a else 0.1 for n in SIDES}}
        answers = {n: 1 if rng.random() < p else -1 for n, p in chances.items()}
        _vote(round_, _person(round_, f"honest{i}", created), ids, answers,
              created + timedelta(minutes=5))
    # Like group B, but all agree with "contested": one new account every two days.
    script = {"common": 1, "contested": 1, **{n: 1 if n[0] == "b" else -1 for n in SIDES}}
    bots = set()
    for n in range(N_BOTS):
        created = start + 15 * DAY + n * 2 * DAY
        bot = _person(round_, f"bot{n}", created)
        _vote(round_, bot, ids, script, created + timedelta(hours=3))
        bots.add(bot.id)
    db.session.commit()
    return round_, ids, bots


@pytest.mark.usefixtures("db")
def test_slow_scripted_accounts_are_held_for_review(app: Flask, client, login_as) -> None:
    round_, ids, bots = slow_attack()
    snap = refresh_and_escalate(round_.id)
    blocks = snap.statistics["coordinated_blocks"]
    assert [set(b["participant_ids"]) for b in blocks] == [bots]
    assert blocks[0]["identical"] is True and blocks[0]["span_seconds"] > 20 * 86400

    escalated = set(db.session.scalars(sa.select(Escalation.proposal_id)))
    assert ids["common"] in escalated  # what both groups agree with still goes through
    assert ids["contested"] not in escalated
    review = db.session.scalar(sa.select(EscalationReview).where(
        EscalationReview.proposal_id == ids["contested"]))
    assert review is not None and review.status == "pending"
    assert review.evidence["effect"] == "pushed"
    assert review.evidence["blocks"][0]["identical"] is True

    login_as("facilitator")
    page = client.get(f"/facilitate/rounds/{round_.slug}",
                      headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "12件のアカウントが、同じ16件の提案にまったく同じ回答をしていました" in page


@pytest.mark.usefixtures("db")
def test_the_honest_residents_alone_are_not_flagged(app: Flask) -> None:
    round_, _ids, bots = slow_attack()
    db.session.execute(sa.delete(Vote).where(Vote.participant_id.in_(bots)))
    db.session.execute(sa.delete(VoteEvent).where(VoteEvent.participant_id.in_(bots)))
    db.session.commit()
    snap = refresh_and_escalate(round_.id)
    assert snap.statistics["coordinated_blocks"] == []
    assert db.session.scalar(sa.select(EscalationReview.id)) is None
