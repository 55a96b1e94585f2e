"""A round's published closing time is when voting ends: a vote or a proposal sent after it
is refused in words and stores nothing, through the vote card, the form, the API and the
staff's paper votes, even while nobody has pressed "close" yet. Otherwise a campaign could
keep voting past the deadline everyone else kept to, and carry a proposal onto the
council's agenda with votes cast after it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from deliberation.errors import DomainError
from deliberation.models import Proposal, Vote, utcnow
from deliberation.services import proposals, votes
from tests.factories import make_proposal
from tests.security.conftest import client_for, quick_user

EN = {"Accept-Language": "en"}
JA = {"Accept-Language": "ja"}
HX = {"HX-Request": "true", "Accept-Language": "en"}
ENDED = "Voting in this round ended at its closing time"


def _count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _past_deadline(make_round, phase: str = "voting", slug: str = "late"):
    return make_round(phase=phase, slug=slug, closes_at=utcnow() - timedelta(minutes=1))


def test_before_the_closing_time_votes_count(db, make_round, make_user) -> None:
    round_ = make_round(phase="voting", closes_at=utcnow() + timedelta(minutes=5))
    proposal = make_proposal(round_)
    voter = make_user()
    votes.cast(round_, voter, None, proposal.id, 1)
    assert _count(db, Vote) == 1


def test_a_vote_after_the_closing_time_is_refused(db, make_round, make_user) -> None:
    round_ = _past_deadline(make_round)
    proposal = make_proposal(round_)
    with pytest.raises(DomainError, match=ENDED):
        votes.cast(round_, make_user(), None, proposal.id, 1)
    assert _count(db, Vote) == 0


def test_the_pages_offer_no_vote_after_the_closing_time(client, login_as, make_round, db
                                                        ) -> None:
    round_ = _past_deadline(make_round)
    proposal = make_proposal(round_)
    page = client.get("/rounds/late", headers=EN).text
    assert "Start voting" not in page and "Closed on" in page and "Closes" not in page
    assert "終了しました" in client.get("/rounds/late", headers=JA).text
    assert "Closes" not in client.get("/", headers=EN).text
    login_as()
    card = client.get("/rounds/late/vote", headers=EN).text
    assert 'name="value"' not in card
    response = client.post("/rounds/late/vote", headers=HX,
                           data={"proposal_id": proposal.id, "value": "1"})
    assert ENDED in response.text and 'role="alert"' in response.text
    response = client.post("/rounds/late/vote", headers=JA,
                           data={"proposal_id": proposal.id, "value": "1"})
    assert response.status_code == 303
    assert "締め切り" in client.get(response.headers["Location"], headers=JA).text
    assert _count(db, Vote) == 0


def test_the_api_refuses_a_vote_after_the_closing_time(app, make_round, db) -> None:
    round_ = _past_deadline(make_round)
    proposal = make_proposal(round_)
    assert app.test_client().get("/api/v1/rounds/late").get_json()["accepts_votes"] is False
    client = client_for(app, quick_user())
    response = client.post("/api/v1/rounds/late/votes", headers=EN,
                           json={"proposal_id": proposal.id, "value": 1})
    assert 400 <= response.status_code < 500
    assert ENDED in response.get_json()["error"]["message"]
    assert _count(db, Vote) == 0


def test_no_proposal_after_the_closing_time(db, make_round, make_user) -> None:
    round_ = _past_deadline(make_round, phase="collecting", slug="late-ideas")
    with pytest.raises(DomainError):
        proposals.submit_proposal(round_, make_user(), "公園にベンチを増やす")
    assert _count(db, Proposal) == 0


def test_paper_votes_are_not_typed_in_after_the_closing_time(client, login_as, make_round,
                                                             db) -> None:
    round_ = _past_deadline(make_round)
    proposal = make_proposal(round_)
    login_as("facilitator")
    created = client.post("/facilitate/rounds/late/assisted",
                          data={"label": "公民館 用紙1", "kind": "resident"})
    assert created.status_code == 303
    pid = int(created.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    page = client.get(f"/facilitate/rounds/late/assisted/{pid}", headers=EN).text
    assert "does not accept votes now" in page
    saved = client.post(f"/facilitate/rounds/late/assisted/{pid}", headers=EN,
                        data={f"vote-{proposal.id}": "1"})
    assert saved.status_code in (303, 400) and _count(db, Vote) == 0
