"""A label and its value are joined as each language joins them: a full-width colon in
Japanese (ワークショップ：…, グループ1：賛成87%), never an English colon and space after
Japanese text."""

from __future__ import annotations

import re

from tests.factories import make_proposal

JA = {"Accept-Language": "ja"}
# Japanese text (or its closing bracket) followed by an English colon and a space
ENGLISH_COLON = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff）」]: ")


def _text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", "", html)


def test_staff_pages_join_a_label_and_its_value_with_a_japanese_colon(
        client, login_as, make_round) -> None:
    login_as("facilitator")
    round_ = make_round(phase="voting", title="まちづくり", slug="machi")
    make_proposal(round_, "駅前に駐輪場を", status="pending")
    pages = {path: client.get(f"/facilitate/rounds/machi{path}", headers=JA)
             for path in ("/edit", "/seeds", "/moderation", "/workshops", "/assisted")}
    found = {}
    for path, response in pages.items():
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        if hits := ENGLISH_COLON.findall(_text(html)):
            found[path] = hits
    assert not found, found
    assert "<h1>ワークショップ：まちづくり</h1>" in pages["/workshops"].get_data(as_text=True)
    assert "アドレス：<code>machi</code>" in pages["/edit"].get_data(as_text=True)
    assert "投稿者：" in pages["/moderation"].get_data(as_text=True)


def test_english_keeps_its_colon(client, login_as, make_round) -> None:
    login_as("facilitator")
    make_round(phase="voting", title="Town plan", slug="plan")
    html = client.get("/facilitate/rounds/plan/workshops",
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "<h1>Workshops: Town plan</h1>" in html
