"""The data download holds every row that refers to the account, found from the model
metadata: a new table with a reference to users or participants is covered, or this fails."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from deliberation.database import db
from deliberation.models import (
    AgendaAnswerSeen,
    ClusterSnapshot,
    Escalation,
    EscalationReview,
    ImportJob,
    OfficialResponse,
    PostalCode,
    Report,
    SnapshotMembership,
    TownSetting,
    VerificationRecord,
    VoteEvent,
    audit,
)
from deliberation.models._common import utcnow
from deliberation.services import privacy
from tests import factories


def _login(client, user):
    with client.session_transaction() as session:
        session["_user_id"] = factories.session_cookie_id(user)
        session["_fresh"] = True


@pytest.fixture()
def everything(db):
    """One account that has a row in every table that can refer to it, and a neighbour."""
    me = factories.make_user("facilitator", display_name="Hanako")
    other = factories.make_user(display_name="Taro")
    round_ = factories.make_round(slug="all", phase="voting", created_by_id=me.id)
    mine = factories.make_participant(round_, me)
    theirs = factories.make_participant(round_, other)
    factories.make_proposal(round_, "My rejected idea", author_id=mine.id,
                                       status="rejected", rejection_reason="Off topic here",
                                       moderated_by_id=me.id)
    public = factories.make_proposal(round_, "Their idea", author_id=theirs.id,
                                     moderated_by_id=me.id)
    factories.add_vote(mine, public, 1)
    db.session.add(VoteEvent(round_id=round_.id, participant_id=mine.id,
                             proposal_id=public.id, value=-1, source="web",
                             created_at=utcnow() - timedelta(hours=1)))
    factories.add_vote(theirs, public, 1)
    db.session.add(Report(proposal_id=public.id, reporter_id=me.id, reason="Rude words"))
    snapshot = ClusterSnapshot(round_id=round_.id, method="pca", k=1)
    db.session.add(snapshot)
    db.session.flush()
    db.session.add(SnapshotMembership(snapshot_id=snapshot.id, participant_id=mine.id,
                                      x=0.1, y=0.2, group_id=0))
    db.session.add(SnapshotMembership(snapshot_id=snapshot.id, participant_id=theirs.id,
                                      x=0.3, y=0.4, group_id=0))
    esc = Escalation(proposal_id=public.id, round_id=round_.id, kind="manual", reason="r",
                     escalated_by_id=me.id, withdrawn_by_id=me.id, withdrawn_at=utcnow())
    db.session.add(esc)
    db.session.flush()
    response = OfficialResponse(escalation_id=esc.id, due_at=utcnow(), updated_by_id=me.id,
                                status="answered", answered_at=utcnow())
    db.session.add(response)
    db.session.flush()
    db.session.add(AgendaAnswerSeen(user_id=me.id, response_id=response.id,
                                    answered_at=response.answered_at))
    db.session.add(VerificationRecord(user_id=me.id, level="resident_verified",
                                      method="counter", verified_by_id=me.id))
    db.session.add(PostalCode(code_hash="0" * 64, batch="b", created_by_id=me.id,
                              expires_at=utcnow(), used_at=utcnow(), used_by_id=me.id))
    db.session.add(EscalationReview(proposal_id=public.id, round_id=round_.id,
                                    status="dismissed", decided_by_id=me.id))
    db.session.add(TownSetting(key="logo", value="image/png", data=b"\x89PNG logo",
                               updated_by_id=me.id))
    db.session.add(ImportJob(slug="upload", round_phase="voting", created_by_id=me.id))
    audit.record("account.role_changed", actor=other, target=me, role="facilitator")
    audit.record("proposal.report", actor=me, target=public, round_id=round_.id)
    db.session.commit()
    return me, other, mine


def test_every_reference_to_the_account_is_in_the_download(everything):
    me, _other, mine = everything
    records = privacy.export_data(me)["records"]
    mine_ids = {"users": {me.id}, "participants": {mine.id}}
    references = privacy.references()
    assert {(t.name, c.name) for t, c, _target in references} >= {
        ("votes", "participant_id"), ("vote_events", "participant_id"),
        ("agenda_answers_seen", "user_id"), ("audit_log", "actor_id")}
    for table, column, target in references:
        pk = next(iter(table.primary_key.columns))
        expected = set(db.session.scalars(
            sa.select(pk).where(column.in_(mine_ids[target]))))
        # the scenario must reach every reference; a new one needs a row here too
        assert expected, f"no {table.name}.{column.name} row in the test scenario"
        exported = {row[pk.name] for row in records.get(table.name, [])}
        assert expected <= exported, f"{table.name}.{column.name} missing from the download"
    # A file kept in a row (the logo an administrator uploaded) comes as base64 text.
    assert records["town_settings"][0]["data"] == base64.b64encode(b"\x89PNG logo").decode()
    json.dumps(records)


def test_the_download_names_no_one_else_and_no_secret(everything):
    me, other, _mine = everything
    data = privacy.export_data(me)
    text = repr(data)
    assert "Taro" not in text and other.email not in text
    assert "password_hash" not in text and "session_ids" not in text
    for table, column, target in privacy.references():
        if target == "users":
            for row in data["records"].get(table.name, []):
                assert row.get(column.name) in (None, me.id)
    assert len(data["vote_history"]) == 2  # the change and the first vote
    assert data["proposals"][0]["rejection_reason"] == "Off topic here"
    assert len(data["answers_seen"]) == 1
    assert {e["action"] for e in data["audit_entries"]} == {"account.role_changed",
                                                             "proposal.report"}


def test_the_readable_page_is_japanese_first(client, everything):
    me, _other, _mine = everything
    _login(client, me)
    response = client.get("/account/data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "Off topic here" in page and "Rude words" in page
    assert "投票日時" in page and "モデレーターの理由" in page
    assert client.get("/account/data.json").get_json()["format"] == "hiroba-my-data/2"


def test_the_page_needs_a_login(client, db):
    response = client.get("/account/data")
    assert response.status_code in (302, 303, 401)
