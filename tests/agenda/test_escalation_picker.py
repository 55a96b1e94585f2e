"""Escalating by hand: find the proposal by searching, choose it with a radio button."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from deliberation.database import db
from deliberation.models import Escalation
from tests.factories import make_proposal

EN = {"Accept-Language": "en"}
JA = {"Accept-Language": "ja"}


def radios(html: str) -> list[str]:
    return re.findall(r'<input type="radio" name="proposal_id" value="\d+"[^>]*> <bdi>([^<]*)</bdi>', html)


@pytest.fixture()
def town(make_round):
    round_ = make_round(phase="voting", slug="town")
    for n in range(30):
        make_proposal(round_, f"一般的な提案その{n:02d}")
    station = make_proposal(round_, "駅前の駐輪場を増やしてほしい")
    return round_, station


def test_search_lists_matches_as_radio_buttons_a_page_at_a_time(client, login_as, town) -> None:
    login_as("facilitator")
    url = "/agenda/manage/rounds/town/escalate"
    first = client.get(url, headers=JA).get_data(as_text=True)
    assert len(radios(first)) == 20 and "<select" not in first
    assert "31件の提案から選べます" in first
    assert radios(client.get(url, query_string={"q": "輪場を"}).get_data(as_text=True)) == ["駅前の駐輪場を増やしてほしい"]
    assert len(radios(client.get(url + "?page=2").get_data(as_text=True))) == 11
    assert len(radios(client.get(url + "?page=999999999999999999999").get_data(as_text=True))) == 11
    long = client.get(url, query_string={"q": "駐" * 300}, headers=JA)
    assert long.status_code == 200 and "検索語は100文字以内にしてください" in long.get_data(as_text=True)
    assert 'role="alert" tabindex="-1" autofocus>検索語は100文字以内' in long.get_data(as_text=True)


def test_choosing_and_giving_a_reason_escalates(client, login_as, town) -> None:
    _round, station = town
    login_as("facilitator")
    url = "/agenda/manage/rounds/town/escalate?q=駐輪"
    missing = client.post(url, data={"reason": "ワークショップの要望"}, headers=JA)
    assert missing.status_code == 400 and "提案を選んでください" in missing.get_data(as_text=True)
    # the cursor goes to the choice to make, not to the top of an unchanged-looking page
    first = re.search(r'<input type="radio" name="proposal_id"[^>]*>', missing.get_data(as_text=True))
    assert first is not None and "autofocus" in first.group(0)
    response = client.post(url, data={"proposal_id": station.id, "reason": "ワークショップの要望"})
    assert response.status_code == 303
    assert db.session.scalar(sa.select(Escalation.kind).where(Escalation.proposal_id == station.id)) == "manual"
    # once on the agenda it is no longer offered, and cannot be sent twice
    assert radios(client.get(url).get_data(as_text=True)) == []
    again = client.post(url, data={"proposal_id": station.id, "reason": "もう一度"})
    assert again.status_code == 400


def test_a_proposal_of_another_round_cannot_be_chosen(client, login_as, town, make_round) -> None:
    other = make_proposal(make_round(phase="voting"), "ほかの地区の案")
    login_as("facilitator")
    response = client.post("/agenda/manage/rounds/town/escalate", data={"proposal_id": other.id, "reason": "x"})
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Escalation)) == 0


def test_citizens_cannot_open_the_picker(client, login_as, town) -> None:
    login_as("citizen")
    assert client.get("/agenda/manage/rounds/town/escalate?q=駐輪").status_code == 403


def test_meta_statements_are_not_offered(client, login_as, make_round) -> None:
    login_as("facilitator")
    round_ = make_round(phase="voting", slug="meta")
    make_proposal(round_, "バスの本数を増やす")
    make_proposal(round_, "この話し合いの進め方について", is_meta=True)
    html = client.get("/agenda/manage/rounds/meta/escalate", headers=JA).get_data(as_text=True)
    assert radios(html) == ["バスの本数を増やす"]


def test_a_round_not_yet_open_sends_nothing_by_hand(client, login_as, make_round) -> None:
    """A draft round is seen by nobody outside the staff: an item sent from it would oblige
    the council while the public agenda, its page and its evidence stay hidden."""
    round_ = make_round(phase="draft", slug="unseen")
    proposal = make_proposal(round_, "非公開のラウンドの案")
    login_as("facilitator")
    for headers, words in ((EN, "not open yet"), (JA, "まだ公開されていない")):
        response = client.post("/agenda/manage/rounds/unseen/escalate", headers=headers,
                               data={"proposal_id": proposal.id, "reason": "急ぎ"})
        assert response.status_code == 409 and words in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Escalation)) == 0
