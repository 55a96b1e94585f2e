"""My data (JSON download) and account deletion."""

from __future__ import annotations

import json

import sqlalchemy as sa

from deliberation.models import AuditEntry, Participant, Proposal, Report, User, Vote
from tests import factories

EN = {"Accept-Language": "en"}


def _seed(user: User) -> tuple:
    round_ = factories.make_round(title="Parks round")
    participant = factories.make_participant(round_, user)
    mine = factories.make_proposal(round_, "More benches in the park", author_id=participant.id)
    other = factories.make_proposal(round_, "Longer library hours")
    factories.add_vote(participant, other, 1)
    factories.add_vote(participant, mine, -1)
    report = Report(proposal_id=other.id, reporter_id=user.id, reason="Off topic")
    from deliberation.database import db

    db.session.add(report)
    db.session.commit()
    return round_, participant, mine, other


def test_account_page_needs_login(client) -> None:
    response = client.get("/account/")
    assert response.status_code in (302, 303)
    assert "/auth/login" in response.headers["Location"]


def test_account_page_links_download_and_delete(client, login_as) -> None:
    login_as("citizen")
    page = client.get("/account/", headers=EN).get_data(as_text=True)
    assert "/account/data.json" in page
    assert "Delete my account" in page
    assert "anonymous number" in page


def test_download_contains_everything(client, login_as) -> None:
    user = login_as("citizen", email="hanako@example.org", display_name="Hanako")
    round_, participant, _mine, _other = _seed(user)
    response = client.get("/account/data.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == "hanako@example.org"
    assert data["account"]["display_name"] == "Hanako"
    assert data["consent"]["version"] == "test"
    assert data["consent"]["given_at"]
    assert data["participations"] == [
        {"round": {"slug": round_.slug, "title": "Parks round"}, "anonymous_id": participant.id,
         "kind": "resident", "joined_at": data["participations"][0]["joined_at"]}
    ]
    assert {(v["proposal_text"], v["value"]) for v in data["votes"]} == {
        ("Longer library hours", 1), ("More benches in the park", -1)}
    assert [p["text"] for p in data["proposals"]] == ["More benches in the park"]
    assert data["reports"][0]["reason"] == "Off topic"
    assert data["reports"][0]["proposal_text"] == "Longer library hours"


def test_download_has_only_own_data(client, login_as, db) -> None:
    other_user = factories.make_user(email="other@example.org")
    _seed(other_user)
    login_as("citizen")
    data = client.get("/account/data.json").get_json()
    assert data["votes"] == [] and data["proposals"] == [] and data["reports"] == []
    assert "other@example.org" not in json.dumps(data)


def test_delete_account(client, login_as, db) -> None:
    user = login_as("citizen", email="taro@example.org", display_name="Taro Distinct")
    _round, participant, mine, _other = _seed(user)
    old_nonce = user.session_nonce
    response = client.post("/account/delete", data={
        "password": factories.PASSWORD, "confirm": "y"}, headers=EN)
    assert response.status_code == 303
    db.session.expire_all()
    stored = db.session.get(User, user.id)
    assert stored.email is None
    assert stored.display_name == ""
    assert stored.password_hash is None
    assert stored.locale is None
    assert stored.deleted_at is not None
    assert stored.session_nonce != old_nonce
    # Participation stays, anonymous; votes and proposals stay in the statistics.
    kept = db.session.get(Participant, participant.id)
    assert kept is not None and kept.user_id is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 2
    assert db.session.get(Proposal, mine.id).author_id == participant.id
    assert db.session.scalar(sa.select(Report.reporter_id)) is None
    # Audited without personal data.
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "account.deleted"))
    assert entry is not None and entry.target_id == user.id
    dumped = json.dumps({"d": entry.details, "r": entry.reason})
    assert "taro" not in dumped.lower()
    # Logged out; the account cannot log in again.
    assert client.get("/account/").status_code in (302, 303)
    login = client.post("/auth/login", data={"email": "taro@example.org",
                                              "password": factories.PASSWORD}, headers=EN)
    assert login.status_code == 400


def test_delete_account_other_sessions_end(app, client, login_as, db) -> None:
    user = login_as("citizen")
    other_device = app.test_client()
    factories.log_in(other_device, user)
    assert other_device.get("/account/").status_code == 200
    client.post("/account/delete", data={"password": factories.PASSWORD, "confirm": "y"})
    assert other_device.get("/account/").status_code in (302, 303)


def test_delete_needs_right_password_and_confirmation(client, login_as, db) -> None:
    user = login_as("citizen", email="keep@example.org")
    wrong = client.post("/account/delete", data={"password": "wrong password", "confirm": "y"},
                        headers=EN)
    assert wrong.status_code == 400
    assert "The password is wrong." in wrong.get_data(as_text=True)
    unconfirmed = client.post("/account/delete", data={"password": factories.PASSWORD},
                              headers=EN)
    assert unconfirmed.status_code == 400
    assert "Please confirm" in unconfirmed.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "keep@example.org"
    assert db.session.get(User, user.id).deleted_at is None
    assert client.get("/account/").status_code == 200


def test_privacy_page_and_consent_screen_share_the_notice(app, client) -> None:
    from markupsafe import escape

    from app.privacy_notice import data_items, your_rights

    with app.test_request_context(headers=EN):
        how_long = [str(escape(str(item.how_long))) for item in data_items()]
        rights = [str(escape(line)) for line in your_rights()]
    privacy = client.get("/privacy", headers=EN).get_data(as_text=True)
    register = client.get("/auth/register", headers=EN).get_data(as_text=True)
    for page in (privacy, register):
        assert "How long" in page
        assert "anonymous number" in page
        for line in how_long + rights:
            assert line in page


def test_switching_language_on_a_refused_deletion_leads_back_to_a_page(client, login_as,
                                                                       db) -> None:
    """The refused form is shown at an address only a form can reach (/account/delete):
    the language and reading switches lead back to the page the form was on, not to a
    405 there."""
    login_as("citizen")
    for referrer, back in (("http://localhost/account/", "/account/"), (None, "/")):
        ja = {"Accept-Language": "ja"}
        headers = {**ja, "Referer": referrer} if referrer else ja
        page = client.post("/account/delete", data={"password": "wrong password",
                                                    "confirm": "y"}, headers=headers)
        html = page.get_data(as_text=True)
        assert page.status_code == 400
        assert f'action="/language?next={back}"' in html, referrer
        assert f'action="/reading?next={back}"' in html
        assert "next=/account/delete" not in html
        switched = client.post(f"/language?next={back}", data={"lang": "ja"})
        assert switched.status_code == 303 and switched.headers["Location"] == back
        assert client.get(back).status_code == 200
