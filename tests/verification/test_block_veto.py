"""A coordinated block cannot veto either: a handful of accounts registered in a burst,
voting alike against what both honest groups agree with, join an opinion group and pull it
below the rule. Such a proposal waits for a facilitator's review instead of silently
staying off the agenda, and once approved its public page says why, in Japanese."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from deliberation.database import db
from deliberation.jobs.runner import refresh_and_escalate
from deliberation.models import (
    Escalation,
    EscalationReview,
    Participant,
    User,
    Vote,
    VoteEvent,
    utcnow,
)
from deliberation.services import privacy
from tests.factories import PASSWORD, log_in, make_participant, make_user
from tests.verification.test_attack import DAY, honest_round, register

pytestmark = pytest.mark.slow  # eight accounts register and vote through the pages

N_BOTS = 8
# against what everyone agrees with, otherwise like group A (so they join it)
VETO = {"common": -1, "a_side": 1, "b_side": -1, "contested": -1, "a_two": 1, "b_two": -1}


@pytest.mark.usefixtures("db")
def test_block_cannot_veto_what_both_groups_agree_with(app: Flask, client, login_as) -> None:
    round_, ids = honest_round("everyone")
    for n in range(N_BOTS):
        bot = register(app, n)
        for name, value in VETO.items():
            response = bot.post(f"/rounds/{round_.slug}/vote", data={
                "proposal_id": ids[name], "value": str(value)})
            assert response.status_code == 303
    snap = refresh_and_escalate(round_.id)
    bots = set(db.session.scalars(sa.select(Participant.id).join(User).where(
        User.email.like("bot%"))))
    assert [set(b["participant_ids"]) for b in snap.statistics["coordinated_blocks"]] == [bots]

    # not on the agenda with the block's votes, but not silently dropped either
    assert db.session.scalar(sa.select(Escalation.id)) is None
    review = db.session.scalar(sa.select(EscalationReview))
    assert review is not None and review.proposal_id == ids["common"]
    assert review.status == "pending" and review.evidence["effect"] == "blocked"
    assert review.evidence["without_blocks"]["escalate"] is True
    # honest disagreement is no block: "contested" gets no review
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EscalationReview)) == 1

    login_as("facilitator")
    page = client.get(f"/facilitate/rounds/{round_.slug}",
                      headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "票を除くと基準を満たします" in page and "承認した場合に限り" in page
    response = client.post(f"/facilitate/rounds/{round_.slug}/reviews/{review.id}", data={
        "action": "approve", "reason": "同じ時刻に作られた8件のアカウントでした"})
    assert response.status_code == 303
    esc = db.session.scalar(sa.select(Escalation))
    assert esc.proposal_id == ids["common"]
    # the frozen figures are the ones the rule passed on: without the block's votes
    assert esc.evidence["escalate"] is True
    assert esc.evidence["total_votes"] == 30 and esc.support > 0.5

    public = client.get(f"/agenda/items/{esc.id}",
                        headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "8件のアカウント" in public and "票を除いて数えたもの" in public
    assert "保留しています" not in public and "承認した場合に限り" not in public  # no longer waits
    assert "ファシリテーターがこれらのアカウントを確認" in public and "同じ時刻に作られた8件のアカウントでした" in public
    assert "その後、支持が下がっています" not in public  # the block's votes do not count now either


@pytest.mark.usefixtures("db")
def test_block_cannot_make_an_agenda_item_read_as_fallen(app: Flask, client) -> None:
    """After a proposal reached the council, a burst of accounts voting against it must not
    make its public page and the agenda list say "support has since fallen"."""
    round_, ids = honest_round("everyone")
    refresh_and_escalate(round_.id)
    esc = db.session.scalar(sa.select(Escalation).where(Escalation.proposal_id == ids["common"]))
    assert esc is not None
    for n in range(N_BOTS):
        bot = register(app, n)
        for name, value in VETO.items():
            bot.post(f"/rounds/{round_.slug}/vote", data={
                "proposal_id": ids[name], "value": str(value)})
    snap = refresh_and_escalate(round_.id)
    assert len(snap.statistics["coordinated_blocks"]) == 1
    for url in (f"/agenda/items/{esc.id}", "/agenda/", f"/rounds/{round_.slug}"):
        page = client.get(url, headers={"Accept-Language": "ja"}).get_data(as_text=True)
        assert "その後、支持が下がっています" not in page, url


@pytest.mark.usefixtures("db")
def test_deleting_the_accounts_of_a_block_keeps_it_flagged(app: Flask) -> None:
    """Accounts made in one burst that vote days apart are a block by when they were made
    alone. Deleting them afterwards unlinks their participants from the accounts: the
    block must stay flagged and the proposal it kept down must keep waiting, or deleting
    the accounts would let what they decided through."""
    round_, ids = honest_round("everyone")
    made = utcnow() - 20 * DAY
    bots = []
    for n in range(N_BOTS):
        user = make_user(created_at=made + n * timedelta(minutes=1))
        bot = make_participant(round_, user, created_at=made + n * 2 * DAY)
        for name, value in VETO.items():
            db.session.add(Vote(round_id=round_.id, participant_id=bot.id,
                                proposal_id=ids[name], value=value))
            db.session.add(VoteEvent(round_id=round_.id, participant_id=bot.id,
                                     proposal_id=ids[name], value=value, source="web",
                                     created_at=bot.created_at))
        bots.append((user, bot.id))
    db.session.commit()
    snap = refresh_and_escalate(round_.id)
    assert [b["participant_ids"] for b in snap.statistics["coordinated_blocks"]] == \
        [[pid for _, pid in bots]]
    review = db.session.scalar(sa.select(EscalationReview))
    assert review.proposal_id == ids["common"] and review.status == "pending"

    first = log_in(app.test_client(), bots[0][0])
    response = first.post("/account/delete", data={"password": PASSWORD, "confirm": "y"})
    assert response.status_code == 303
    for user, _ in bots[1:]:
        privacy.delete_account(user, PASSWORD)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Participant).where(
        Participant.id.in_([pid for _, pid in bots]), Participant.user_id.is_not(None))) == 0

    snap = refresh_and_escalate(round_.id)
    assert [b["participant_ids"] for b in snap.statistics["coordinated_blocks"]] == \
        [[pid for _, pid in bots]]
    db.session.refresh(review)
    assert review.status == "pending"
    assert db.session.scalar(sa.select(Escalation.id)) is None
