"""Sleeper accounts: made one by one over weeks, voting like the people around them, then
changing their answer on one proposal together minutes before a snapshot. The screen must
hold what their change decided (``clustering.coordination.find_switch_blocks``) and let an
honest change of mind through."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

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
    Round,
    User,
    Vote,
    VoteEvent,
    utcnow,
)
from tests import factories

DAY = timedelta(days=1)
N_A, N_B, N_SLEEPERS = 20, 20, 16
# Each camp's chance of agreeing: six proposals A likes, five B likes, one everybody likes,
# and the target, which A likes and B is split on.
CHANCES = {**{f"a{i}": (0.9, 0.1) for i in range(6)}, **{f"b{i}": (0.1, 0.9) for i in range(5)},
           "common": (0.95, 0.95), "target": (0.9, 0.5)}


def participant_voting(round_: Round, ids: dict[str, int], created: datetime,
                       answers: dict[str, int]) -> Participant:
    user = factories.make_user(created_at=created)
    participant = Participant(round_id=round_.id, user_id=user.id, source="account",
                              kind="resident", created_at=created)
    db.session.add(participant)
    db.session.flush()
    for name, value in answers.items():
        db.session.add(Vote(round_id=round_.id, participant_id=participant.id,
                            proposal_id=ids[name], value=value))
        db.session.add(VoteEvent(round_id=round_.id, participant_id=participant.id,
                                 proposal_id=ids[name], value=value, source="web",
                                 created_at=created + timedelta(minutes=3)))
    return participant


def town(days_ago: int = 30) -> tuple[Round, dict[str, int], list[Participant]]:
    """Two camps of residents who joined over a month from ``days_ago``, and sleepers among
    camp B: accounts made every two days or so, each voting at once like someone of camp
    B, except that they all disagree with the target."""
    rng = np.random.default_rng(5)
    round_ = factories.make_round(phase="voting", escalation_armed=True)
    ids = {name: factories.make_proposal(round_, name).id for name in CHANCES}
    start = utcnow() - days_ago * DAY
    for i in range(N_A + N_B):
        camp = 0 if i < N_A else 1
        participant_voting(round_, ids, start + i * timedelta(hours=17), {
            name: 1 if rng.random() < chances[camp] else -1
            for name, chances in CHANCES.items()})
    sleepers = [participant_voting(round_, ids, start + i * timedelta(hours=44), {
        name: -1 if name == "target" else 1 if rng.random() < chances[1] else -1
        for name, chances in CHANCES.items()}) for i in range(N_SLEEPERS)]
    db.session.commit()
    return round_, ids, sleepers


def change_answer(app: Flask, participant: Participant, slug: str, proposal_id: int) -> None:
    """The account logs in and changes its answer to agree through the vote form."""
    client = factories.log_in(app.test_client(), db.session.get(User, participant.user_id))
    response = client.post(f"/rounds/{slug}/vote", data={"proposal_id": proposal_id,
                                                         "value": "1"})
    assert response.status_code == 303


def escalated() -> set[int]:
    return set(db.session.scalars(sa.select(Escalation.proposal_id)))


def test_sleepers_flipping_a_proposal_together_wait_for_a_facilitator(
        app: Flask, db, client, login_as) -> None:
    round_, ids, sleepers = town()
    before = refresh_and_escalate(round_.id)
    # nothing alike enough or close enough in time to flag; the target does not pass
    assert before.statistics["coordinated_blocks"] == []
    assert ids["common"] in escalated() and ids["target"] not in escalated()

    for participant in sleepers:
        change_answer(app, participant, round_.slug, ids["target"])
    snap = refresh_and_escalate(round_.id)

    [block] = snap.statistics["coordinated_blocks"]
    assert sorted(block["participant_ids"]) == sorted(p.id for p in sleepers)
    assert (block["switched_proposal_id"], block["switched_answer"]) == (ids["target"], 1)
    assert ids["target"] not in escalated()
    review = db.session.scalar(sa.select(EscalationReview))
    assert review.proposal_id == ids["target"] and review.status == "pending"
    assert review.evidence["effect"] == "pushed"

    login_as("facilitator")
    page = client.get(f"/facilitate/rounds/{round_.slug}", headers={"Accept-Language": "ja"})
    text = page.get_data(as_text=True)
    assert f"{N_SLEEPERS}件のアカウントが、1分のうちに、この提案への回答をそろって「賛成」に変えました" \
        in " ".join(text.split())
    # approved, the agenda item tells residents the same
    assert client.post(f"/facilitate/rounds/{round_.slug}/reviews/{review.id}",
                       data={"action": "approve", "reason": "確認しました"}).status_code == 303
    item = db.session.scalar(sa.select(Escalation).where(
        Escalation.proposal_id == ids["target"]))
    page = client.get(f"/agenda/items/{item.id}", headers={"Accept-Language": "ja"})
    assert "この提案への回答をそろって「賛成」に変えました" in page.get_data(as_text=True)


def test_a_block_that_changed_another_proposal_is_named(client, login_as, db) -> None:
    round_ = factories.make_round(phase="voting")
    proposal = factories.make_proposal(round_, "病院へのバス")
    block = {"participant_ids": [1, 2, 3, 4, 5], "size": 5, "span_seconds": 5 * 3600 + 60.0,
             "n_votes": 5, "switched_proposal_id": proposal.id + 1, "switched_answer": -1}
    db.session.add(EscalationReview(proposal_id=proposal.id, round_id=round_.id, evidence={
        "source": "coordinated", "blocks": [block], "decisive": True, "effect": "blocked",
        "snapshot_id": None,
        "with_blocks": {"escalate": False, "total_votes": 60, "support": 0.0},
        "without_blocks": {"escalate": True, "reasons": [], "total_votes": 55,
                           "support": 0.6}}))
    db.session.commit()
    login_as("facilitator")
    for language, expected in (
            ("ja", f"5件のアカウントが、6時間のうちに、別の提案（#{proposal.id + 1}）への回答を"
                   "そろって「反対」に変えました。"),
            ("en", f"5 accounts changed their answer on another proposal (#{proposal.id + 1}) "
                   "to “Disagree” within 6 hours of each other.")):
        page = client.get(f"/facilitate/rounds/{round_.slug}",
                          headers={"Accept-Language": language})
        assert expected in " ".join(page.get_data(as_text=True).split())


@pytest.mark.parametrize(("hours_apart", "changing"), [(7, N_SLEEPERS), (8 * 24, N_SLEEPERS),
                                                     (30, 4)])
def test_the_same_change_of_mind_five_times_in_a_round_is_held(
        app: Flask, db, client, login_as, hours_apart: int, changing: int) -> None:
    """The same accounts changing the same answer one by one, hours or days apart. Five or
    more in a round, at any pace, is what sleepers spreading their change do (the real
    Pol.is rounds have no two such changes), so what it decides waits for a facilitator;
    four (people who thought again, one by one) are not flagged."""
    held = changing >= 5
    round_, ids, sleepers = town(days_ago=30 + N_SLEEPERS * hours_apart // 24)
    sleepers = sleepers[:changing]
    refresh_and_escalate(round_.id)
    start = utcnow() - len(sleepers) * timedelta(hours=hours_apart)
    for i, participant in enumerate(sleepers):
        when = start + i * timedelta(hours=hours_apart)
        db.session.execute(sa.update(Vote).where(
            Vote.participant_id == participant.id, Vote.proposal_id == ids["target"])
            .values(value=1, updated_at=when))
        db.session.add(VoteEvent(round_id=round_.id, participant_id=participant.id,
                                 proposal_id=ids["target"], value=1, source="web",
                                 created_at=when))
    db.session.commit()
    snap = refresh_and_escalate(round_.id)
    review = db.session.scalar(sa.select(EscalationReview))
    if held:
        [block] = snap.statistics["coordinated_blocks"]
        assert sorted(block["participant_ids"]) == sorted(p.id for p in sleepers)
        assert review.proposal_id == ids["target"] and review.status == "pending"
        assert ids["target"] not in escalated()
        # the facilitator reads the span in days (15 gaps of 7 hours or 8 days)
        days = math.ceil((len(sleepers) - 1) * hours_apart / 24)
        login_as("facilitator")
        page = client.get(f"/facilitate/rounds/{round_.slug}", headers={"Accept-Language": "ja"})
        assert (f"{N_SLEEPERS}件のアカウントが、{days}日のうちに、この提案への回答をそろって"
                "「賛成」に変えました") in " ".join(page.get_data(as_text=True).split())
    else:
        assert snap.statistics["coordinated_blocks"] == []
        assert review is None
