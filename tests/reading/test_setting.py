"""The reader setting: kept in the session and the account, changed with or without JS,
applied to Japanese pages only; the easy-Japanese catalog fits the interface's."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from app.reading.easy import messages
from app.reading.paths import CATALOG
from deliberation.database import db as _db
from tests.conftest import REPO

JA = {"Accept-Language": "ja"}
RUBY = re.compile(r"<ruby>")


def test_standard_pages_have_no_ruby(client) -> None:
    page = client.get("/", headers=JA).get_data(as_text=True)
    assert "討議ラウンド" in page and not RUBY.search(page)


def test_furigana_without_javascript_kept_in_the_session(client) -> None:
    response = client.post("/reading?next=/how-it-works", data={"reading": "furigana"},
                           headers=JA)
    assert response.status_code == 303 and response.location == "/how-it-works"
    page = client.get("/how-it-works", headers=JA).get_data(as_text=True)
    assert '<ruby>仕組<rt aria-hidden="true">しく</rt></ruby>み' in page
    assert "<title>ひろばの仕組み" in page  # the title cannot hold markup


def test_easy_japanese_with_htmx(client) -> None:
    response = client.post("/reading?next=/", data={"reading": "easy"},
                           headers={**JA, "HX-Request": "true"})
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/"
    page = client.get("/", headers=JA).get_data(as_text=True)
    assert "討議ラウンド" not in page
    assert '<ruby>話<rt aria-hidden="true">はな</rt></ruby>し' in page  # みんなで話し合う場
    assert 'aria-pressed="true"' in page  # the header button shows it is on


def test_english_pages_ignore_the_setting(client) -> None:
    client.post("/reading", data={"reading": "easy"})
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Deliberation rounds" in page and not RUBY.search(page)


def test_the_account_keeps_the_choice_across_sessions(app, client, login_as) -> None:
    user = login_as("citizen")
    client.post("/reading", data={"reading": "furigana"}, headers=JA)
    _db.session.refresh(user)
    assert user.reading == "furigana"
    other = app.test_client()  # another device: a new session, the same account
    with other.session_transaction() as session:
        with client.session_transaction() as first:
            session.update(first)
        session.pop("reading")
    assert RUBY.search(other.get("/", headers=JA).get_data(as_text=True))


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("bad", ["", "loud", "easy" * 10])
def test_an_unknown_choice_is_refused_and_nothing_is_stored(client, login_as, bad,
                                                            htmx) -> None:
    user = login_as("citizen")
    headers = {**JA, "HX-Request": "true"} if htmx else JA
    response = client.post("/reading", data={"reading": bad}, headers=headers)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "書き方をひとつ選んでください。" in page
    if htmx:  # a fragment for the page's error region, not a whole page inside the form
        assert response.headers["HX-Retarget"] == "#htmx-errors" and "<html" not in page
    _db.session.refresh(user)
    assert user.reading is None
    with client.session_transaction() as session:
        assert "reading" not in session


def test_the_settings_page_shows_the_choice(client) -> None:
    client.post("/reading", data={"reading": "furigana"})
    page = client.get("/reading", headers=JA).get_data(as_text=True)
    assert re.search(r'value="furigana" checked', page)


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\(\w+\)[sd]", text))


class _AnyValue(dict):
    def __missing__(self, key: str) -> int:
        return 1


def test_easy_messages_belong_to_the_interface_and_keep_its_placeholders() -> None:
    with (REPO / "app/translations/ja/LC_MESSAGES/messages.po").open("rb") as po:
        interface = {(m.id[0] if isinstance(m.id, tuple) else m.id) for m in read_po(po) if m.id}
    with CATALOG.open("rb") as po:
        easy = read_po(po)
    assert len(messages()) >= 80
    for message in easy:
        if not message.id:
            continue
        msgid = message.id[0] if isinstance(message.id, tuple) else message.id
        assert msgid in interface, msgid
        assert _placeholders(messages()[msgid]) <= _placeholders(msgid), msgid
        messages()[msgid] % _AnyValue()  # templates always %-format: a lone % would fail


def test_easy_japanese_reaches_messages_from_views_and_labels(client, login_as,
                                                              make_round) -> None:
    from tests.factories import make_proposal

    login_as("citizen")
    round_ = make_round(phase="voting", title="駅前の話し合い")
    proposal = make_proposal(round_, "駅前に図書館を")
    client.post("/reading", data={"reading": "easy"}, headers=JA)
    home = client.get("/", headers=JA).get_data(as_text=True)
    assert '<ruby>投票<rt aria-hidden="true">とうひょう</rt></ruby>できます' in home  # a label
    card = client.post(f"/rounds/{round_.slug}/vote", headers={**JA, "HX-Request": "true"},
                       data={"proposal_id": proposal.id, "value": "1"}).get_data(as_text=True)
    assert '<ruby>投票<rt aria-hidden="true">とうひょう</rt></ruby>しました。' in card  # a view's message
    english = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Voting" in english and "投票できます" not in english


def _read(page: str) -> str:
    """The page's text as read: no furigana, no markup."""
    return re.sub(r"<[^>]+>", "", re.sub(r"<rt\b[^>]*>.*?</rt>", "", page))


def test_registering_reads_in_easy_japanese(client) -> None:
    """A foreign resident who chose easy Japanese registers on a page written in it too: its
    choices, its consent and its errors were in the usual Japanese (関係人口（eシチズン）、
    記載のとおり…)."""
    client.post("/reading", data={"reading": "easy"}, headers=JA)
    page = _read(client.get("/auth/register", headers=JA).get_data(as_text=True))
    assert "関係人口：ほかのまちに住んでいます。でも、このまちに関心があります" in page
    assert "説明のとおりに保存してもいいです" in page and "記載のとおり" not in page
    # and the notice they agree to, not ソルト付きハッシュ and 説明責任
    assert "パスワードは、だれも読めない形にして保存します" in page
    assert "ソルト付きハッシュ" not in page and "説明責任" not in page
    refused = _read(client.post("/auth/register", headers=JA, data={
        "email": "hanako@example.org", "display_name": "Hanako", "kind": "e_citizen",
        "password": "long enough password", "password2": "other password"}).get_data(as_text=True))
    assert "2つのパスワードが同じではありません。" in refused
    assert "チェックがないと、アカウントを作ることができません。" in refused


def test_the_vote_card_counts_in_easy_japanese(client, login_as, make_round) -> None:
    """The vote card's counts read as easy Japanese: they said 「1の提案に投票しました」
    (a number with no counter) and 「この提案を含めて」 in the usual Japanese."""
    from tests.factories import make_proposal

    login_as("citizen")
    round_ = make_round(phase="voting", title="駅前の話し合い")
    first = make_proposal(round_, "駅前に図書館を")
    make_proposal(round_, "駅前にベンチを")
    client.post("/reading", data={"reading": "easy"}, headers=JA)
    card = _read(client.post(f"/rounds/{round_.slug}/vote", headers={**JA, "HX-Request": "true"},
                             data={"proposal_id": first.id, "value": "1"}).get_data(as_text=True))
    assert "1件の提案に投票しました。" in card and "あと1件です。" in card, card
    assert "含めて" not in card


def test_the_rule_and_the_report_page_read_in_easy_japanese(client, login_as,
                                                            make_round) -> None:
    """The round's escalation rule and the page that reports a proposal were in the usual
    Japanese (意見グループ…信頼度, 通報) for a reader who chose easy Japanese."""
    from tests.factories import make_proposal

    login_as("citizen")
    round_ = make_round(phase="voting", title="駅前の話し合い")
    proposal = make_proposal(round_, "駅前に図書館を")
    client.post("/reading", data={"reading": "easy"}, headers=JA)
    page = _read(client.get(f"/rounds/{round_.slug}", headers=JA).get_data(as_text=True))
    assert "次の2つがそろうと、提案は議会に届きます。" in page and "信頼度" not in page
    report = f"/rounds/{round_.slug}/proposals/{proposal.id}/report"
    form = _read(client.get(report, headers=JA).get_data(as_text=True))
    assert "どうして、この提案はよくないと思いますか。" in form and "通報" not in form
    refused = _read(client.post(report, data={"reason": ""}, headers=JA).get_data(as_text=True))
    assert "どうしてよくないと思うか、書いてください。" in refused
    listed = _read(client.get(f"/rounds/{round_.slug}/proposals", headers=JA).get_data(as_text=True))
    assert "提案の文の中のことばで探します。" in listed and "議会が答えた提案" in listed
