"""Who may take part is checked for every action (vote, propose, report) in one place, and
looking never writes: a participation starts with the first vote or proposal."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from deliberation.models import Participant, Proposal, Report, Vote
from tests import factories
from tests.security.conftest import client_for, quick_user, table_counts

JA = {"Accept-Language": "ja"}
RESIDENTS_ONLY = "このラウンドには、まちの住民のみ参加できます。"


def _participants(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Participant))


@pytest.fixture()
def residents_round(app: Flask, db) -> dict:
    round_ = factories.make_round(phase="voting", eligibility="residents")
    proposal = factories.make_proposal(round_, "A covered bicycle park at the station")
    return {"round": round_, "proposal": proposal}


def _refused(response, message: str = RESIDENTS_ONLY) -> None:
    assert response.status_code == 403, response.status_code
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize("htmx", [False, True])
def test_ineligible_account_can_neither_vote_nor_open_the_card(
        app: Flask, db, residents_round: dict, htmx: bool) -> None:
    slug, proposal = residents_round["round"].slug, residents_round["proposal"]
    client = client_for(app, quick_user(kind="e_citizen"))
    headers = {**JA, **({"HX-Request": "true"} if htmx else {})}
    before = table_counts()
    _refused(client.get(f"/rounds/{slug}/vote", headers=headers))
    response = client.post(f"/rounds/{slug}/vote", headers=headers,
                           data={"proposal_id": proposal.id, "value": "1"})
    assert response.status_code in (200, 303, 403)
    if response.status_code == 303:
        response = client.get(response.headers["Location"], headers=JA)
    assert RESIDENTS_ONLY in response.get_data(as_text=True)
    api = client.post(f"/api/v1/rounds/{slug}/votes", headers=JA,
                      json={"proposal_id": proposal.id, "value": 1})
    assert api.status_code == 403 and api.get_json()["error"]["message"] == RESIDENTS_ONLY
    assert table_counts() == before


def test_ineligible_account_cannot_propose(app: Flask, db, residents_round: dict) -> None:
    round_ = residents_round["round"]
    round_.phase = "collecting"
    db.session.commit()
    client = client_for(app, quick_user(kind="visitor"))
    before = table_counts()
    response = client.post(f"/rounds/{round_.slug}/propose", headers=JA,
                           data={"text": "Free buses on Sundays"})
    assert response.status_code == 403
    assert RESIDENTS_ONLY in response.get_data(as_text=True)
    api = client.post(f"/api/v1/rounds/{round_.slug}/proposals", headers=JA,
                      json={"text": "Free buses on Sundays"})
    assert api.status_code == 403
    assert table_counts() == before


def test_ineligible_account_cannot_report(app: Flask, db, residents_round: dict) -> None:
    slug, proposal = residents_round["round"].slug, residents_round["proposal"]
    residents_round["round"].report_threshold = 1
    db.session.commit()
    client = client_for(app, quick_user(kind="e_citizen"))
    before = table_counts()
    response = client.post(f"/rounds/{slug}/proposals/{proposal.id}/report", headers=JA,
                           data={"reason": "I do not like it"})
    assert response.status_code == 403
    assert RESIDENTS_ONLY in response.get_data(as_text=True)
    assert table_counts() == before
    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).status == "published"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 0


def test_eligible_resident_can_report(app: Flask, db, residents_round: dict) -> None:
    slug, proposal = residents_round["round"].slug, residents_round["proposal"]
    client = client_for(app, quick_user(kind="resident"))
    response = client.post(f"/rounds/{slug}/proposals/{proposal.id}/report",
                           data={"reason": "Insults a neighbour"})
    assert response.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 1


def test_eligibility_is_checked_again_for_an_existing_participant(
        app: Flask, db, residents_round: dict) -> None:
    """Joined while the round was open to everyone; the round is now for residents only."""
    round_, proposal = residents_round["round"], residents_round["proposal"]
    user = quick_user(kind="e_citizen")
    factories.make_participant(round_, user)
    client = client_for(app, user)
    before = table_counts()
    api = client.post(f"/api/v1/rounds/{round_.slug}/votes", headers=JA,
                      json={"proposal_id": proposal.id, "value": 1})
    assert api.status_code == 403
    assert table_counts() == before


@pytest.mark.parametrize("phase", ["voting", "closed", "reflection"])
@pytest.mark.parametrize("htmx", [False, True])
def test_opening_the_vote_page_creates_no_participation(app: Flask, db, phase: str,
                                                        htmx: bool) -> None:
    round_ = factories.make_round(phase=phase)
    factories.make_proposal(round_, "Longer library opening hours")
    client = client_for(app, quick_user())
    before = table_counts()
    response = client.get(f"/rounds/{round_.slug}/vote",
                          headers={**JA, **({"HX-Request": "true"} if htmx else {})})
    assert response.status_code == 200
    assert table_counts() == before


def test_participation_starts_with_the_first_vote_and_not_with_a_refused_one(
        app: Flask, db) -> None:
    round_ = factories.make_round(phase="voting")
    proposal = factories.make_proposal(round_, "Longer library opening hours")
    client = client_for(app, quick_user())
    refused = client.post(f"/api/v1/rounds/{round_.slug}/votes",
                          json={"proposal_id": proposal.id, "value": 7})
    assert refused.status_code == 400
    missing = client.post(f"/api/v1/rounds/{round_.slug}/votes",
                          json={"proposal_id": proposal.id + 100, "value": 1})
    assert missing.status_code == 404
    pending = factories.make_proposal(round_, "Not reviewed yet", status="pending")
    unpublished = client.post(f"/api/v1/rounds/{round_.slug}/votes",
                              json={"proposal_id": pending.id, "value": 1})
    assert unpublished.status_code == 404  # as an id of no proposal: nothing to enumerate
    assert _participants(db) == 0
    saved = client.post(f"/rounds/{round_.slug}/vote",
                        data={"proposal_id": proposal.id, "value": "1"})
    assert saved.status_code == 303
    assert _participants(db) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 1
