"""Searching, filtering, sorting and paging the public proposals list (SQLite and PostgreSQL)."""

from __future__ import annotations

import re

import pytest

from deliberation.database import db as _db
from deliberation.models import Escalation, OfficialResponse, Proposal
from deliberation.services.participants import participant_for
from tests.factories import add_vote, make_participant, make_proposal, snapshot_of_votes

EN = {"Accept-Language": "en"}
JA = {"Accept-Language": "ja"}
STATION = "駅前の駐輪場を増やしてほしい"


def shown(client, round_, headers=EN, **args) -> list[str]:
    response = client.get(f"/rounds/{round_.slug}/proposals", query_string=args, headers=headers)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return re.findall(r'<p id="text-\d+"[^>]*><a href="[^"]+">([^<]*)</a>', html)


@pytest.fixture()
def town(make_round):
    round_ = make_round(phase="voting")
    for text in (STATION, "図書館の開館時間を夜まで延ばす", "公園にベンチを置く",
                 "100%再生可能エネルギーにする", "snake_case の名前をやめる"):
        make_proposal(round_, text)
    make_proposal(round_, "駐輪場の話（非公開）", status="rejected")
    return round_


@pytest.mark.parametrize("query", ["駐輪", "輪場を", "増やしてほしい", "駅前 ほしい", "駅前　ほしい"])
def test_a_japanese_word_in_the_middle_of_a_proposal_is_found(client, town, query) -> None:
    assert shown(client, town, q=query) == [STATION]


@pytest.mark.parametrize("query", ["駐輪\x00場", "駐輪\u200b場", "\x00"])
def test_control_characters_in_a_search_are_left_out(client, town, query) -> None:
    """PostgreSQL refuses a NUL in any text it is sent; the stored texts have none."""
    assert shown(client, town, q=query) == ([STATION] if query.strip("\x00") else
                                            shown(client, town))


@pytest.mark.parametrize("path", ["/agenda/", "/agenda/council/", "/facilitate/audit",
                                  "/admin/users"])
def test_a_nul_in_any_search_box_is_not_a_server_error(client, town, login_as, path) -> None:
    login_as("admin")
    assert client.get(path, query_string={"q": "a\x00b"}, headers=JA).status_code == 200


def test_search_ignores_hidden_proposals_and_other_rounds(client, town, make_round) -> None:
    other = make_round(phase="voting")
    make_proposal(other, "駐輪場をもっと")
    assert shown(client, town, q="駐輪場") == [STATION]


def test_edited_and_deleted_texts_are_searched_as_they_are_now(client, town) -> None:
    proposal = _db.session.scalar(_db.select(Proposal).where(Proposal.text == STATION))
    proposal.text = "駅前に屋根つきの自転車置き場を"
    _db.session.commit()
    assert shown(client, town, q="駐輪場") == []
    assert shown(client, town, q="自転車置き場") == ["駅前に屋根つきの自転車置き場を"]
    _db.session.delete(proposal)
    _db.session.commit()
    assert shown(client, town, q="自転車置き場") == []


@pytest.mark.parametrize("query,expected", [
    ("%", ["100%再生可能エネルギーにする"]),
    ("0%再", ["100%再生可能エネルギーにする"]),
    ("_", ["snake_case の名前をやめる"]),
    ("e_c", ["snake_case の名前をやめる"]),
    ("SNAKE", ["snake_case の名前をやめる"]),
    ('"駐輪', []),
    ("駐輪 OR 公園", []),
    ("*", []),
])
def test_wildcards_and_query_syntax_are_searched_literally(client, town, query, expected) -> None:
    assert shown(client, town, q=query) == expected


def test_empty_query_lists_everything_newest_first(client, town) -> None:
    texts = shown(client, town, q="   ")
    assert len(texts) == 5 and texts[-1] == STATION


def test_an_over_long_query_says_so_and_lists_everything(client, town) -> None:
    response = client.get(f"/rounds/{town.slug}/proposals", query_string={"q": "駐" * 101}, headers=JA)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'role="alert" tabindex="-1" autofocus>検索語は100文字以内にしてください' in html
    assert html.count('class="card proposal-item"') == 5


def test_nothing_found_says_so_in_japanese(client, town) -> None:
    html = client.get(f"/rounds/{town.slug}/proposals", query_string={"q": "体育館"}, headers=JA).get_data(as_text=True)
    assert "一致する提案はありません" in html


@pytest.mark.parametrize("page", ["0", "-3", "abc", "99999999999999999999999", "3"])
def test_bad_page_numbers_never_fail(client, make_round, page) -> None:
    round_ = make_round(phase="voting")
    for n in range(25):
        make_proposal(round_, f"提案その{n}")
    response = client.get(f"/rounds/{round_.slug}/proposals?page={page}", headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count('class="card proposal-item"') in (20, 5)
    assert "Page 1 of 2" in html or "Page 2 of 2" in html


def test_pages_keep_the_search_and_filters(client, make_round) -> None:
    round_ = make_round(phase="voting")
    for n in range(23):
        make_proposal(round_, f"公園の案{n:02d}")
    make_proposal(round_, "図書館の案")
    first = client.get(f"/rounds/{round_.slug}/proposals?q=公園&sort=votes", headers=EN).get_data(as_text=True)
    assert first.count('class="card proposal-item"') == 20 and "23 proposals" in first
    next_link = re.search(r'<a class="button" rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "page=2" in next_link and "sort=votes" in next_link
    second = client.get(next_link, headers=EN).get_data(as_text=True)
    assert second.count('class="card proposal-item"') == 3 and "図書館" not in second


def test_sort_by_votes_and_by_agreement(client, make_round) -> None:
    round_ = make_round(phase="voting")
    quiet, divisive, liked = (make_proposal(round_, t) for t in ("静かな案", "賛否の分かれる案", "人気の案"))
    people = [make_participant(round_) for _ in range(3)]
    for person in people:
        add_vote(person, divisive, -1)
    for person in people[:2]:
        add_vote(person, liked, 1)
    add_vote(people[0], quiet, 1)
    snapshot_of_votes(round_)  # the order follows the counts of the latest snapshot
    assert shown(client, round_, sort="votes") == ["賛否の分かれる案", "人気の案", "静かな案"]
    assert shown(client, round_, sort="agreed") == ["人気の案", "静かな案", "賛否の分かれる案"]
    assert shown(client, round_, sort="newest") == ["人気の案", "賛否の分かれる案", "静かな案"]
    assert shown(client, round_, sort="bogus") == ["人気の案", "賛否の分かれる案", "静かな案"]


def test_filter_by_own_votes_when_signed_in(client, make_round, login_as) -> None:
    round_ = make_round(phase="voting")
    first = make_proposal(round_, "一つ目の案")
    make_proposal(round_, "二つ目の案")
    assert 'name="voted"' not in client.get(f"/rounds/{round_.slug}/proposals").get_data(as_text=True)
    user = login_as()
    assert shown(client, round_, voted="voted") == []
    assert len(shown(client, round_, voted="not_voted")) == 2
    add_vote(participant_for(round_, user), first, 1)
    assert shown(client, round_, voted="not_voted") == ["二つ目の案"]
    assert shown(client, round_, voted="voted") == ["一つ目の案"]
    assert shown(client, round_, voted="voted", q="二つ目") == []


def test_filter_by_council_status(client, make_round) -> None:
    round_ = make_round(phase="voting")
    plain, escalated, answered, withdrawn = (
        make_proposal(round_, t) for t in ("ただの案", "議題の案", "回答済みの案", "取り下げの案"))
    for proposal in (escalated, answered, withdrawn):
        _db.session.add(Escalation(proposal_id=proposal.id, round_id=round_.id, kind="manual", reason="r"))
    _db.session.flush()
    esc = _db.session.scalar(_db.select(Escalation).where(Escalation.proposal_id == answered.id))
    _db.session.add(OfficialResponse(escalation_id=esc.id, status="answered", due_at=esc.escalated_at))
    gone = _db.session.scalar(_db.select(Escalation).where(Escalation.proposal_id == withdrawn.id))
    gone.withdrawn_at = gone.escalated_at
    _db.session.commit()
    assert shown(client, round_, status="agenda") == ["回答済みの案", "議題の案"]
    assert shown(client, round_, status="answered") == ["回答済みの案"]
    assert len(shown(client, round_, status="nonsense")) == 4
    assert plain.text in shown(client, round_)
    # the choices are named alike: the proposals on the agenda, the proposals answered
    page = client.get(f"/rounds/{round_.slug}/proposals", headers={"Accept-Language": "ja"})
    options = re.findall(r'<option value="(?:agenda|answered)"[^>]*>([^<]*)<',
                         page.get_data(as_text=True))
    assert options == ["議会の議題になった提案", "議会が回答した提案"]


def test_htmx_gets_only_the_results(client, town) -> None:
    response = client.get(f"/rounds/{town.slug}/proposals?q=駐輪", headers={"HX-Request": "true", **EN})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert html.lstrip().startswith('<div id="proposal-results"') and "<form" not in html.split("proposal-list")[0]
    assert STATION in html
    # htmx restoring the page from history (Back) puts the answer in place of the body
    restored = client.get(f"/rounds/{town.slug}/proposals?q=駐輪", headers={
        "HX-Request": "true", "HX-History-Restore-Request": "true", **EN})
    assert "<html" in restored.get_data(as_text=True) and 'name="q"' in restored.get_data(as_text=True)
    assert "HX-History-Restore-Request" in restored.headers["Vary"]
