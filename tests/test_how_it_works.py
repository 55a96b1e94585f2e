"""The 'how it works' page says what the engine does: rounds publish proposals at once
unless they moderate first (the default is to publish), a proposal escalates on the
support of every opinion group, and the results show a map of unnamed dots as well as
totals (not "only totals")."""

from __future__ import annotations

import re

from deliberation.models import Round

JA = {"Accept-Language": "ja"}


def test_moderation_before_publication_is_said_to_depend_on_the_round(client, db) -> None:
    assert Round.__table__.c.moderation_mode.default.arg == "open"  # published at once
    text = client.get("/how-it-works", headers=JA).text
    assert "ラウンドによって、提案はファシリテーターがルールに沿っているかを確認してから表示されるか、" \
           "すぐに表示されます。" in text
    assert "どの意見グループでも賛成が多かった提案" in text
    assert "くわしい条件は、各ラウンドのページに書いてあります。" in text
    assert "結果に表示されるのは合計だけです" not in text and "名前のない点" in text


def test_easy_japanese_says_the_same(client) -> None:
    client.post("/reading", data={"reading": "easy"}, headers=JA)
    html = client.get("/how-it-works", headers=JA).text
    text = re.sub(r"<[^>]+>", "", re.sub(r"<rt[^>]*>.*?</rt>", "", html))  # furigana off
    assert "すぐにみんなが見ることができるラウンドもあります。" in text
    assert "どのグループでも賛成が多かった提案は、議会に届きます。" in text


def test_it_says_a_facilitator_checks_what_organised_accounts_or_paper_votes_decide(
        client, db) -> None:
    """The coordination screen and the check of staff-typed paper votes hold a proposal
    whose outcome depends on them (deliberation.engine.coordination): residents can read
    that it happens, in standard and in easy Japanese."""
    text = client.get("/how-it-works", headers=JA).text
    assert "同じ提案への回答をそろって変えた多くのアカウント" in text
    assert "職員が入力した紙の票で決まってしまう提案は、先にファシリテーターが確認します。" in text
    client.post("/reading", data={"reading": "easy"}, headers=JA)
    html = client.get("/how-it-works", headers=JA).text
    easy = re.sub(r"<[^>]+>", "", re.sub(r"<rt[^>]*>.*?</rt>", "", html))
    assert "その提案は、先にファシリテーターが調べます。" in easy
