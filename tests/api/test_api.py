"""/api/v1 behaviour: read-only data, voting and proposing with session + CSRF header."""

from __future__ import annotations

import json

import sqlalchemy as sa
from flask import Flask

from deliberation.models import Proposal, Vote, VoteEvent
from tests import factories
from tests.api.conftest import DISTINCT_EMAIL, DISTINCT_NAME
from tests.security.conftest import client_for, quick_user

EN = {"Accept-Language": "en"}


def test_rounds_list_hides_drafts(client, api_round) -> None:
    data = client.get("/api/v1/rounds").get_json()
    assert [r["slug"] for r in data["rounds"]] == [api_round["round"].slug]
    assert client.get("/api/v1/rounds/secret-draft").status_code == 404
    missing = client.get("/api/v1/rounds/nope", headers=EN)
    assert missing.status_code == 404 and missing.get_json()["error"]["status"] == 404


def test_proposals_published_only_with_counts(client, api_round) -> None:
    slug = api_round["round"].slug
    data = client.get(f"/api/v1/rounds/{slug}/proposals").get_json()
    assert [p["text"] for p in data["proposals"]] == ["More benches"]
    assert data["proposals"][0]["votes"] == {"agree": 2, "disagree": 1, "pass": 0}


def test_results_hide_small_groups_and_unpublished(client, api_round) -> None:
    slug = api_round["round"].slug
    snapshot = client.get(f"/api/v1/rounds/{slug}/results").get_json()["snapshot"]
    assert [g["group_id"] for g in snapshot["groups"]] == [0]
    assert snapshot["hidden_small_groups"] == 1
    assert {s["proposal_id"] for s in snapshot["overall"]} == {api_round["open"].id}


def test_results_without_snapshot(client, db) -> None:
    round_ = factories.make_round(phase="voting")
    data = client.get(f"/api/v1/rounds/{round_.slug}/results").get_json()
    assert data == {"round": round_.slug, "snapshot": None}


def test_agenda_with_response(client, api_round) -> None:
    data = client.get(f"/api/v1/rounds/{api_round['round'].slug}/agenda").get_json()
    assert data["agenda"][0]["proposal_text"] == "More benches"
    assert data["agenda"][0]["response"]["answer"] == "We will add benches."


def test_agenda_keeps_a_draft_answer_unpublished(client, api_round, db) -> None:
    """The council may save its answer while still reviewing: the public page says it has
    not answered yet, and so must the API, instead of publishing the draft."""
    from deliberation.models import OfficialResponse

    response = db.session.scalar(sa.select(OfficialResponse))
    response.status, response.outcome, response.answered_at = "under_review", None, None
    response.answer = "Draft: benches only if the budget allows"
    db.session.commit()
    body = client.get(f"/api/v1/rounds/{api_round['round'].slug}/agenda").get_json()
    assert body["agenda"][0]["response"]["status"] == "under_review"
    assert body["agenda"][0]["response"]["answer"] == ""


def test_public_api_has_no_personal_data(client, api_round) -> None:
    slug = api_round["round"].slug
    body = ""
    for path in ("/api/v1/rounds", f"/api/v1/rounds/{slug}", f"/api/v1/rounds/{slug}/proposals",
                 f"/api/v1/rounds/{slug}/results", f"/api/v1/rounds/{slug}/agenda"):
        response = client.get(path)
        assert response.status_code == 200
        body += response.get_data(as_text=True)
    assert DISTINCT_EMAIL not in body and DISTINCT_NAME not in body
    assert "Hidden text never public" not in body and "Pending text never public" not in body
    for key in ("participant_id", "user_id", "author_id", "email", "display_name"):
        assert f'"{key}"' not in body


def test_vote_needs_login_json_401(client, api_round) -> None:
    response = client.post(f"/api/v1/rounds/{api_round['round'].slug}/votes",
                           json={"proposal_id": api_round["open"].id, "value": 1}, headers=EN)
    assert response.status_code == 401
    assert response.get_json()["error"]["message"] == "Please log in."


def test_vote_and_change_vote(app: Flask, api_round, db) -> None:
    client = client_for(app, quick_user())
    url = f"/api/v1/rounds/{api_round['round'].slug}/votes"
    pid = api_round["open"].id
    assert client.post(url, json={"proposal_id": pid, "value": 1}).get_json() == {
        "proposal_id": pid, "value": 1}
    assert client.post(url, json={"proposal_id": pid, "value": -1}).status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VoteEvent).where(
        VoteEvent.source == "api")) == 2


def test_bad_votes_are_clear_4xx_and_change_nothing(app: Flask, api_round, db) -> None:
    client = client_for(app, quick_user())
    url = f"/api/v1/rounds/{api_round['round'].slug}/votes"
    other_round = factories.make_round(phase="voting")
    foreign = factories.make_proposal(other_round)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Vote))
    cases = [
        ({"proposal_id": api_round["open"].id, "value": 5}, 400),
        ({"proposal_id": api_round["open"].id, "value": "agree"}, 400),
        # unpublished: as an id of no proposal (nobody lists them by trying ids)
        ({"proposal_id": api_round["hidden"].id, "value": 1}, 404),
        ({"proposal_id": api_round["pending"].id, "value": 1}, 404),
        ({"proposal_id": foreign.id, "value": 1}, 404),
        ({"proposal_id": 10**9, "value": 1}, 404),
        ([1, 2], 400),
        ("not json", 400),
    ]
    for body, status in cases:
        response = client.post(url, data=json.dumps(body), headers={
            **EN, "Content-Type": "application/json"})
        assert response.status_code == status, (body, response.get_data(as_text=True))
        assert response.get_json()["error"]["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == before


def test_propose(app: Flask, db) -> None:
    round_ = factories.make_round(phase="collecting")
    client = client_for(app, quick_user())
    url = f"/api/v1/rounds/{round_.slug}/proposals"
    created = client.post(url, json={"text": "<b>Bike lanes</b>\u202e"})
    assert created.status_code == 201
    assert created.get_json()["text"] == "<b>Bike lanes</b>"
    assert created.content_type.startswith("application/json")
    duplicate = client.post(url, json={"text": "<b>Bike lanes</b>"}, headers=EN)
    assert duplicate.status_code == 409
    too_long = client.post(url, json={"text": "x" * 5000}, headers=EN)
    assert too_long.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 1


def test_api_posts_need_csrf_header(csrf_app: Flask, api_round, db) -> None:
    client = client_for(csrf_app, quick_user())
    url = f"/api/v1/rounds/{api_round['round'].slug}/votes"
    body = {"proposal_id": api_round["open"].id, "value": 1}
    refused = client.post(url, json=body)
    assert refused.status_code == 400 and refused.is_json
    token = client.get("/api/v1/csrf-token").get_json()["csrf_token"]
    accepted = client.post(url, json=body, headers={"X-CSRFToken": token})
    assert accepted.status_code == 200


def test_oversized_api_body_gets_json_413(app: Flask, api_round) -> None:
    client = client_for(app, quick_user())
    previous = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 1024
    try:
        response = client.post(f"/api/v1/rounds/{api_round['round'].slug}/proposals",
                               json={"text": "x" * 5000}, headers=EN)
    finally:
        app.config["MAX_CONTENT_LENGTH"] = previous
    assert response.status_code == 413
    assert response.get_json()["error"]["message"] == "What you sent is too large."
