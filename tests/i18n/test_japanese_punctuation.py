"""A label and its value are joined as each language joins them: a full-width colon in
Japanese (ワークショップ：…, グループ1：賛成87%), never an English colon and space after
Japanese text."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from deliberation.models import Escalation
from tests.factories import make_proposal

JA = {"Accept-Language": "ja"}
# Japanese text (or its closing bracket) followed by an English colon and a space
ENGLISH_COLON = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff）」]: ")


def _text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", "", html)


def _within_blocks(pages: dict[str, str], pattern: str) -> dict[str, list[str]]:
    """Each page's matches of ``pattern`` within one block of text, never across two."""
    return {path: [hit for block in text.split(BLOCK) for hit in re.findall(pattern, block.strip())]
            for path, text in pages.items()}


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


def test_a_note_in_brackets_takes_japanese_brackets(client, login_as, db) -> None:
    """(292人) and (グループの90%) read as English brackets in a Japanese sentence: the
    results, the presentation screen and the preview put their notes in （）."""
    from deliberation.jobs.runner import refresh_and_escalate
    from tests.agenda.conftest import build_planted_round

    planted = build_planted_round()
    planted.round.escalation_armed = False
    db.session.commit()
    refresh_and_escalate(planted.round.id)
    login_as("facilitator")
    slug = planted.round.slug
    pages = {path: client.get(path, headers=JA).get_data(as_text=True) for path in (
        f"/rounds/{slug}/results", f"/facilitate/rounds/{slug}/present",
        f"/facilitate/rounds/{slug}", f"/facilitate/rounds/{slug}/dashboard")}
    english_bracket = re.compile(r"\((?=[^)]*[\u3040-\u30ff\u4e00-\u9fff])[^)]*\)")
    found = {path: english_bracket.findall(_text(html)) for path, html in pages.items()}
    assert not any(found.values()), found
    results = _text(pages[f"/rounds/{slug}/results"])
    assert "人）" in results and "（グループを越えた合意度：" in results
    english = client.get(f"/rounds/{slug}/results", headers={"Accept-Language": "en"})
    assert "(agreement across groups: " in _text(english.get_data(as_text=True))


def test_plan_layers_are_named_as_the_demo_town_names_them(client, login_as) -> None:
    """The council's form names the layers of the comprehensive plan; the management one
    is a 経営指針 (a guideline), as the demo town's round calls it, not a 経営方針."""
    from deliberation.engine import escalation
    from tests.factories import make_round

    facilitator = login_as("facilitator")
    proposal = make_proposal(make_round(phase="voting", title="経営指針"), "施設を統合する")
    item = escalation.escalate_manually(proposal.id, actor=facilitator, reason="テスト")
    login_as("council")
    html = client.get(f"/agenda/council/items/{item.id}", headers=JA).get_data(as_text=True)
    assert '<option value="management_guideline">経営指針</option>' in html


def test_the_agenda_has_one_name() -> None:
    """The council's agenda is 議題 on every page: a round's page headed its list
    議会の検討課題になった提案 and went on 議会の議題になった提案は…件です."""
    from pathlib import Path

    from babel.messages.pofile import read_po

    path = Path(__file__).parents[2] / "app/translations/ja/LC_MESSAGES/messages.po"
    with path.open("rb") as handle:
        other_name = [m.id for m in read_po(handle) if m.id and "検討課題" in str(m.string)]
    assert not other_name, other_name


def test_the_people_who_review_proposals_have_one_name() -> None:
    """Residents read ファシリテーター on every page that says who reviews their proposals,
    but モデレーター on the page explaining how Hiroba works and on their own data page."""
    from pathlib import Path

    from babel.messages.pofile import read_po

    path = Path(__file__).parents[2] / "app/translations/ja/LC_MESSAGES/messages.po"
    with path.open("rb") as handle:
        other_name = [m.id for m in read_po(handle) if m.id and "モデレーター" in str(m.string)]
    assert not other_name, other_name


def test_meta_is_explained_one_way() -> None:
    """A facilitator met メタ as メタとして扱う on the moderation button (unexplained), メタ
    （運営への意見） in the audit log, メタ情報 in the escalation form and メタ（参加者や
    進め方についての意見） on the agenda: one explanation now goes with it everywhere."""
    from pathlib import Path

    from babel.messages.pofile import read_po

    path = Path(__file__).parents[2] / "app/translations/ja/LC_MESSAGES/messages.po"
    with path.open("rb") as handle:
        strings = [str(m.string) for m in read_po(handle) if m.id and "メタ" in str(m.string)]
    explained = [re.search(r"([^、。「」（）]*)（メタ）", s) for s in strings]
    odd = [s for s, found in zip(strings, explained, strict=True)
           if "メタ情報" in s or "メタ（" in s or "メタとして" in s
           or (found and not found.group(1).endswith(("参加者や進め方についての意見",
                                                      "議論の対象外")))]
    assert not odd, odd
    assert any("（メタ）にする" in s for s in strings)  # the moderation button says what it is


@pytest.mark.parametrize("catalog_path", ["app/translations/ja/LC_MESSAGES/messages.po",
                                          "app/reading/yasashii.po"])
def test_the_japanese_catalog_uses_japanese_brackets_and_colons(catalog_path: str) -> None:
    """Every Japanese message a page shows puts Japanese text in （） and joins with ：, as
    the reading-mode choices now do (「ふつうの日本語にふりがなを付ける（漢字の上に読み方）」);
    the command line's own words (click's 使い方:) keep the terminal's ASCII. Easy Japanese
    too: its results page said 多くの人が賛成: and まだグループがない人(投票が少ない)."""
    from pathlib import Path

    from babel.messages.pofile import read_po

    terminal = {"Usage: ", "default: %(value)s", "environment variable: %(names)s"}
    path = Path(__file__).parents[2] / catalog_path
    with path.open("rb") as handle:
        catalog = read_po(handle)
    kana_kanji = r"[\u3040-\u30ff\u4e00-\u9fff]"
    ascii_next_to_japanese = re.compile(
        rf"{kana_kanji}\(|\({kana_kanji}|{kana_kanji}\)|\){kana_kanji}|{kana_kanji}\)?:(?!//)")
    found = []
    for message in catalog:
        if not message.id or message.id in terminal:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        found += [s for s in strings if s and ascii_next_to_japanese.search(s)]
        # one mark for a range (1〜12): the round form showed 0～1 beside −1〜1
        found += [s for s in strings if s and "～" in s]
    assert not found, found


def test_counts_and_shares_beside_japanese_take_japanese_brackets(
        client, login_as, make_round) -> None:
    """The moderation queue's similar proposals (…開けてほしい (36%)), an error page's status
    (ページが見つかりません (404)) and the account's data page wrote ASCII brackets beside
    Japanese text."""
    round_ = make_round(phase="voting", title="まちづくり", slug="machi")
    make_proposal(round_, "図書館を、平日は夜8時まで開けてほしい")
    make_proposal(round_, "図書館は夜も開けてほしいです", status="pending")
    beside_japanese = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff）」] ?\(")
    missing = client.get("/rounds/no-such-round", headers=JA).get_data(as_text=True)
    login_as("facilitator")
    queue = client.get("/facilitate/rounds/machi/moderation", headers=JA).get_data(as_text=True)
    data = client.get("/account/data", headers=JA).get_data(as_text=True)
    found = {name: beside_japanese.findall(_text(html))
             for name, html in (("404", missing), ("queue", queue), ("data", data))}
    assert not any(found.values()), found
    assert "%）" in _text(queue) and "（404）" in _text(missing)
    assert re.search(r"（類似度\d+%）", _text(queue))


BLOCK = "\x00"


def _blocks(html: str) -> str:
    """The page's text with BLOCK where one block of text ends and another begins."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"</?(?:p|li|ul|ol|div|h[1-6]|section|td|th|tr|dt|dd|dl|br|form|blockquote"
                  r"|header|footer|main|nav|figure|figcaption|table|caption|fieldset|legend"
                  r"|details|summary|label|button|svg|title|text|option|select)\b[^>]*>", BLOCK, html)
    return re.sub(r"<[^>]+>", "", html)


def test_sentences_follow_each_other_without_a_space_in_japanese(client, login_as, db) -> None:
    """Sentences a template writes one after another (the vote card's count, the results'
    notes, each group's evidence) had a space after 。, as English puts one after a full
    stop; Japanese runs them on, English keeps its space."""
    from deliberation.jobs.runner import refresh_and_escalate
    from tests.agenda.conftest import build_planted_round

    planted = build_planted_round()
    refresh_and_escalate(planted.round.id)
    slug = planted.round.slug
    login_as("citizen")
    client.post(f"/rounds/{slug}/vote", data={"proposal_id": planted.side_a[0], "value": "1"})
    pages = {path: _blocks(client.get(path, headers=JA).get_data(as_text=True)) for path in (
        f"/rounds/{slug}/vote", f"/rounds/{slug}/results", f"/rounds/{slug}/propose",
        "/agenda/", "/terms")}
    pages.update({f"/agenda/items/{esc.id}": _blocks(
        client.get(f"/agenda/items/{esc.id}", headers=JA).get_data(as_text=True))
        for esc in db.session.scalars(sa.select(Escalation)).all()[:1]})
    assert len(pages) == 6
    found = _within_blocks(pages, r".{0,12}。\s+\S.{0,12}")
    assert not any(found.values()), found
    assert "投票は後から変更できます。1件の提案に投票しました。" in pages[f"/rounds/{slug}/vote"]
    english = _text(client.get(f"/rounds/{slug}/vote",
                               headers={"Accept-Language": "en"}).get_data(as_text=True))
    assert "change your votes later. You have voted on 1 proposal." in " ".join(english.split())


def test_a_japanese_colon_takes_no_space_after_it(client, login_as, db) -> None:
    """A label ending in ：, then its value (主に賛成：…, 賛成：…, アカウントの確認レベル：…,
    ファイルで：…), had the space English puts after its colon."""
    from deliberation.jobs.runner import refresh_and_escalate
    from tests.agenda.conftest import build_planted_round

    planted = build_planted_round()
    refresh_and_escalate(planted.round.id)
    escalation = db.session.scalars(sa.select(Escalation)).first()
    login_as("council")
    pages = {path: _blocks(client.get(path, headers=JA).get_data(as_text=True)) for path in (
        f"/rounds/{planted.round.slug}/results", f"/agenda/council/items/{escalation.id}",
        "/account/verification", "/account/data")}
    found = _within_blocks(pages, r".{0,12}：\s+\S.{0,12}")
    assert not any(found.values()), found
    assert "主に賛成：" in pages[f"/rounds/{planted.round.slug}/results"]
    assert "アカウントの確認レベル：未確認" in pages["/account/verification"]
    english = client.get(f"/rounds/{planted.round.slug}/results",
                         headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Mostly agree: <bdi>" in english


def test_a_note_in_japanese_brackets_takes_no_space_before_it(client, login_as, db) -> None:
    """（グループを越えた合意度：80%） after a proposal, （403） after an error's title,
    （月別） after a chart's title: the space English puts before its brackets made a gap
    before the full-width bracket, which has its own."""
    from deliberation.jobs.runner import refresh_and_escalate
    from tests.agenda.conftest import build_planted_round

    planted = build_planted_round()
    planted.round.escalation_armed = False
    db.session.commit()
    refresh_and_escalate(planted.round.id)
    slug = planted.round.slug
    make_proposal(planted.round, "A side 1 again", status="pending")
    login_as("facilitator")
    paths = (f"/rounds/{slug}/results", f"/facilitate/rounds/{slug}/present",
             f"/facilitate/rounds/{slug}/dashboard", f"/facilitate/rounds/{slug}/moderation",
             "/admin/users")
    pages = {path: _blocks(client.get(path, headers=JA).get_data(as_text=True)) for path in paths}
    found = _within_blocks(pages, r".{0,12}\S\s+（.{0,12}")
    assert not any(found.values()), found
    assert "（グループを越えた合意度：" in pages[f"/rounds/{slug}/results"]
    assert "許可されていません（403）" in pages["/admin/users"]
    english = client.get(f"/rounds/{slug}/results", headers={"Accept-Language": "en"})
    assert '</bdi> <span class="meta">(agreement across groups: ' in english.get_data(as_text=True)


def test_the_author_reads_the_reason_right_after_its_label(client, login_as, make_round) -> None:
    """An author whose proposal was rejected read 理由： 宣伝のため on their own pages."""
    from tests.factories import make_participant

    author = login_as("citizen")
    round_ = make_round(phase="voting", slug="machi")
    participant = make_participant(round_, author)
    proposal = make_proposal(round_, "駅前の店のセール", status="rejected",
                             author_id=participant.id, rejection_reason="宣伝のため")
    for path in ("/rounds/machi/mine", f"/rounds/machi/proposals/{proposal.id}"):
        text = _text(client.get(path, headers=JA).get_data(as_text=True))
        assert "理由：宣伝のため" in text, path
    english = _text(client.get("/rounds/machi/mine", headers={"Accept-Language": "en"})
                    .get_data(as_text=True))
    assert "Reason: 宣伝のため" in english
