"""Fuzzing the vote, proposal and report endpoints: no input gives a 500; hostile proposal
text is stored clean and shown escaped."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deliberation.models import Proposal, Vote
from deliberation.services.proposals import MAX_LENGTH
from deliberation.text import clean_text
from tests import factories
from tests.security.conftest import client_for, quick_user

pytestmark = pytest.mark.slow  # hypothesis: hundreds of generated requests

EN = {"Accept-Language": "en"}
FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

anything = st.one_of(
    st.text(max_size=400),
    st.sampled_from(["1", "-1", "0", "+1", "2", "1.0", " 1 ", "", "true", "null", "١", "9" * 40,
                     "-0", "0x1", "1e3", "\x00", "<script>", "' OR 1=1 --"]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)


@pytest.fixture()
def voting_round(app: Flask, db) -> dict:
    round_ = factories.make_round(phase="voting")
    other = factories.make_round(phase="voting")
    published = factories.make_proposal(round_, "Open proposal")
    hidden = factories.make_proposal(round_, "Hidden proposal", status="hidden")
    rejected = factories.make_proposal(round_, "Rejected proposal", status="rejected")
    foreign = factories.make_proposal(other, "Other round's proposal")
    user = quick_user()
    return {"round": round_, "ids": [published.id, hidden.id, rejected.id, foreign.id],
            "published": published.id, "client": client_for(app, user)}


@FUZZ
@given(proposal_id=st.one_of(anything, st.sampled_from(["P", "H", "R", "F"])), value=anything,
       htmx=st.booleans())
def test_vote_endpoint_never_500(voting_round: dict, proposal_id: str, value: str,
                                 htmx: bool) -> None:
    ids = dict(zip("PHRF", voting_round["ids"], strict=True))
    proposal_id = str(ids.get(proposal_id, proposal_id))
    headers = {**EN, **({"HX-Request": "true"} if htmx else {})}
    response = voting_round["client"].post(
        f"/rounds/{voting_round['round'].slug}/vote",
        data={"proposal_id": proposal_id, "value": value}, headers=headers)
    assert response.status_code < 500, (proposal_id, value, response.status_code)
    ok_ids = {str(voting_round["published"])}
    if proposal_id.strip() not in ok_ids or value.strip() not in {"1", "-1", "0", "+1"}:
        # Invalid value, hidden/rejected/foreign proposal: no vote on anything but the open one.
        from deliberation.database import db

        others = db.session.scalar(sa.select(sa.func.count()).select_from(Vote).where(
            Vote.proposal_id != voting_round["published"]))
        assert others == 0


@FUZZ
@given(text=st.one_of(st.text(max_size=600), st.sampled_from([
    "<script>alert(1)</script>", "a\u202eb", "\x00\x01", "x" * 5000, "👍🏽" * 100, " ", ""])))
def test_propose_endpoint_never_500(app: Flask, voting_round: dict, text: str) -> None:
    round_ = voting_round["round"]
    round_.phase = "collecting"
    from deliberation.database import db

    db.session.commit()
    response = voting_round["client"].post(f"/rounds/{round_.slug}/propose",
                                           data={"text": text}, headers=EN)
    assert response.status_code < 500, (text, response.status_code)
    for stored in db.session.scalars(sa.select(Proposal.text)):
        assert stored == clean_text(stored)
        assert len(stored) <= MAX_LENGTH or stored.endswith("proposal")


@FUZZ
@given(reason=anything, proposal_id=st.one_of(st.integers(-5, 10**12), st.sampled_from("PHRF")))
def test_report_endpoint_never_500(voting_round: dict, reason: str, proposal_id) -> None:
    ids = dict(zip("PHRF", voting_round["ids"], strict=True))
    proposal_id = ids.get(proposal_id, proposal_id)
    if isinstance(proposal_id, int) and proposal_id < 0:
        url = f"/rounds/{voting_round['round'].slug}/proposals/{proposal_id}/report"
    else:
        url = f"/rounds/{voting_round['round'].slug}/proposals/{proposal_id}/report"
    response = voting_round["client"].post(url, data={"reason": reason}, headers=EN)
    assert response.status_code < 500, (proposal_id, reason, response.status_code)


HOSTILE = "<script>alert('x')</script> \u202eevil\u202c <img src=x onerror=alert(1)> 家族👨‍👩‍👧"


def test_hostile_proposal_is_stored_as_text_and_shown_escaped(app: Flask, db) -> None:
    round_ = factories.make_round(phase="collecting")
    client = client_for(app, quick_user())
    response = client.post(f"/rounds/{round_.slug}/propose", data={"text": HOSTILE}, headers=EN)
    assert response.status_code == 303
    stored = db.session.scalar(sa.select(Proposal).where(Proposal.round_id == round_.id))
    assert stored.text == clean_text(HOSTILE)
    assert "\u202e" not in stored.text
    for path in (f"/rounds/{round_.slug}/proposals", f"/rounds/{round_.slug}/proposals/{stored.id}",
                 f"/rounds/{round_.slug}/mine"):
        page = client.get(path, headers=EN).get_data(as_text=True)
        assert "<script>alert" not in page, path
        assert not re.search(r"<img[^>]*onerror", page), path
        assert "&lt;script&gt;alert" in page, path
        assert "👨‍👩‍👧" in page, path


def test_overlong_proposal_is_refused_and_nothing_stored(app: Flask, db) -> None:
    round_ = factories.make_round(phase="collecting")
    client = client_for(app, quick_user())
    response = client.post(f"/rounds/{round_.slug}/propose", data={"text": "あ" * 5000},
                           headers=EN)
    assert 400 <= response.status_code < 500
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 0
