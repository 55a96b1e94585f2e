"""A round's state decides what its pages offer: no vote button where there is nothing to
vote on (no proposal yet, or only proposals waiting for moderation), the right words for
each state, and links between the facilitator's page of a round and its public page."""

from __future__ import annotations

from tests.factories import make_proposal
from tests.i18n.test_error_paths_japanese import assert_japanese

JA = {"Accept-Language": "ja"}
EN = {"Accept-Language": "en"}
NOTHING_YET = "まだ投票できる提案がありません"
VOTE_BUTTON = 'name="value"'


def test_an_empty_voting_round_offers_no_vote(client, login_as, make_round) -> None:
    round_ = make_round(phase="voting", title="空のラウンド", slug="empty")
    page = assert_japanese(client.get("/rounds/empty", headers=JA), 200)
    assert NOTHING_YET in page and "投票を始める" not in page
    assert 'href="/rounds/empty/vote" class="button' not in page
    home = assert_japanese(client.get("/", headers=JA), 200)
    assert "「空のラウンド」に投票する" not in home and NOTHING_YET in home
    login_as()
    card = assert_japanese(client.get("/rounds/empty/vote", headers=JA), 200)
    assert NOTHING_YET in card and VOTE_BUTTON not in card
    assert "すべての提案に投票しました" not in card
    # once a proposal is published, the vote is offered
    make_proposal(round_, "公園にベンチを増やす")
    page = assert_japanese(client.get("/rounds/empty", headers=JA), 200)
    assert "投票を始める" in page and NOTHING_YET not in page
    card = assert_japanese(client.get("/rounds/empty/vote", headers=JA), 200)
    assert "この提案に賛成ですか？" in card and VOTE_BUTTON in card


def test_a_collecting_round_with_only_pending_proposals(client, login_as, make_round) -> None:
    round_ = make_round(phase="collecting", title="提案募集中", slug="collect")
    make_proposal(round_, "図書館を夜まで開ける", status="pending")
    page = assert_japanese(client.get("/rounds/collect", headers=JA), 200)
    assert NOTHING_YET in page and "投票を始める" not in page
    assert "最初の提案を書く" in page and 'href="/rounds/collect/propose"' in page
    login_as()
    card = assert_japanese(client.get("/rounds/collect/vote", headers=JA), 200)
    assert NOTHING_YET in card and VOTE_BUTTON not in card
    assert "最初の提案を書く" in card
    assert_japanese(client.get("/rounds/collect/propose", headers=JA), 200)
    english = client.get("/rounds/collect", headers=EN).get_data(as_text=True)
    assert "There are no proposals to vote on yet" in english and "Start voting" not in english


def test_a_closed_round_offers_results_not_a_vote(client, login_as, make_round) -> None:
    round_ = make_round(phase="closed", title="終了", slug="done")
    make_proposal(round_, "公園にベンチを増やす")
    page = assert_japanese(client.get("/rounds/done", headers=JA), 200)
    assert "投票を始める" not in page and NOTHING_YET not in page
    login_as()
    card = assert_japanese(client.get("/rounds/done/vote", headers=JA), 200)
    assert "現在、投票は受け付けていません" in card and VOTE_BUTTON not in card
    assert 'href="/rounds/done/results"' in card


def test_links_between_the_facilitator_page_and_the_public_page(client, login_as,
                                                                 make_round) -> None:
    make_round(phase="voting", title="公開中", slug="open")
    make_round(phase="draft", title="下書き", slug="draft")
    login_as("facilitator")
    staff = assert_japanese(client.get("/facilitate/rounds/open", headers=JA), 200)
    assert "このラウンドの公開ページを見る" in staff and 'href="/rounds/open"' in staff
    public = assert_japanese(client.get("/rounds/open", headers=JA), 200)
    assert 'href="/facilitate/rounds/open"' in public
    assert "このラウンドを運営する（ファシリテーター用）" in public
    draft = assert_japanese(client.get("/facilitate/rounds/draft", headers=JA), 200)
    assert "公開ページはまだありません" in draft and 'href="/rounds/draft"' not in draft
    login_as()  # a resident sees no way into the facilitation pages
    public = client.get("/rounds/open", headers=JA).get_data(as_text=True)
    assert "/facilitate/" not in public
