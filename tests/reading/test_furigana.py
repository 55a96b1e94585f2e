"""Readings from the shipped dictionary, and where the ruby goes in a page."""

from __future__ import annotations

import pytest

from app.reading.furigana import annotate_html, annotate_text, readings, ruby_for


def _rt(text: str) -> str:
    return f'<rt aria-hidden="true">{text}</rt>'


@pytest.mark.parametrize(("text", "word", "reading"), [
    ("議会に提案します", "議会", "ぎかい"),
    ("議会に提案します", "提案", "ていあん"),
    ("ほかの人の意見", "人", "ひと"),      # in context: not にん
    ("今日は雨です", "今日", "きょう"),   # not こんにちは
    ("住民の投票", "投票", "とうひょう"),
    ("市役所の窓口", "窓口", "まどぐち"),
    ("11月29日", "日", "にち"),           # a date, not 29 か
    ("2日前", "日", "か"),
    ("30分", "分", "ぷん"),
    ("やさしい日本語", "日本", "にほん"),  # as the guidelines and readers say it
    ("何を優先するか", "何", "なに"),     # before a particle; not なんを
    ("寄付金を何に使ったか", "何", "なに"),
    ("何人が投票したか", "何", "なん"),   # before a counter
])
def test_known_words_read_right(text: str, word: str, reading: str) -> None:
    assert (word, reading) in readings(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("1つの点は1人です", "<ruby>1人" + _rt("ひとり") + "</ruby>です"),
    ("2人で", "<ruby>2人" + _rt("ふたり") + "</ruby>で"),
    ("3人", "3<ruby>人" + _rt("にん") + "</ruby>"),
    ("11人", "11<ruby>人" + _rt("にん") + "</ruby>"),
    ("参加者 2,001人", "2,001<ruby>人" + _rt("にん") + "</ruby>"),  # not ふたり after 001
    ("2,002日", "2,002<ruby>日" + _rt("にち") + "</ruby>"),         # not か after 002
])
def test_counted_people_and_days_read_as_the_whole_number_says(text: str,
                                                                  expected: str) -> None:
    assert annotate_text(text).endswith(expected)


def test_spaces_and_unknown_words_are_kept() -> None:
    text = " Hiroba 広場\n"
    assert "".join(written for written, _ in readings(text)) == text


def test_the_reading_goes_over_the_kanji_only() -> None:
    assert ruby_for("話し合う", "はなしあう") == (
        f"<ruby>話{_rt('はな')}</ruby>し<ruby>合{_rt('あ')}</ruby>う")
    assert ruby_for("グループ", "ぐるーぷ") == "グループ"


def test_page_text_gets_ruby_but_attributes_titles_and_scripts_do_not() -> None:
    page = ('<html><head><title>投票</title></head><body>'
            '<p title="議会" aria-label="議会">議会<b>提案</b> &amp; &lt;i&gt;</p>'
            '<script>const s = "議会";</script><textarea>議会</textarea>'
            '<svg><text>議会</text></svg><ruby>漢字<rt>かんじ</rt></ruby></body></html>')
    out = annotate_html(page)
    assert out.count("<ruby>") == 3  # the p's two words and the ruby already there
    assert f"<ruby>議会{_rt('ぎかい')}</ruby>" in out
    assert f"<b><span><ruby>提案{_rt('ていあん')}</ruby></span></b>" in out
    assert '<p title="議会" aria-label="議会">' in out
    for untouched in ("<title>投票</title>", 'const s = "議会";', "<textarea>議会</textarea>",
                      "<text>議会</text>", "&amp; &lt;i&gt;"):
        assert untouched in out


def test_text_written_by_people_stays_escaped() -> None:
    out = annotate_html("<p>議会 &lt;script&gt;alert(1)&lt;/script&gt;</p>")
    assert "<script>" not in out and "&lt;script&gt;" in out


@pytest.mark.parametrize(("text", "ruby"), [
    ("希望在车站前增加自行车停车场。", False),            # simplified Chinese
    ("我們希望市政府在公園裡設置更多的長椅，讓老人休息。", False),  # traditional Chinese
    ("市民公園設置長椅，高齢者休息場所確保。", False),    # Chinese without telling characters
    ("我覺得開放是提升基礎競重要的一環", False),          # nor a sentence stop
    ("線上諮詢會議影音文字紀錄", False),
    ("我是計程車司機。", False),
    ("送信 5件、失敗 0件。", True),
    ("駅前に駐輪場を増やしてほしい。", True),
    ("地域活性化推進事業計画", True),                     # a Japanese heading without kana
    ("議会", True),
    ("区役所前", True),
    ("医療費助成", True),
])
def test_furigana_only_for_japanese(text: str, ruby: bool) -> None:
    assert ("<ruby>" in annotate_html(f"<p>{text}</p>")) is ruby


def test_every_japanese_message_counts_as_japanese() -> None:
    """The interface's own Japanese keeps its furigana: no message is taken for Chinese."""
    from babel.messages.pofile import read_po

    from app.reading.furigana import is_japanese
    from app.reading.paths import CATALOG

    root = CATALOG.parents[1] / "translations/ja/LC_MESSAGES/messages.po"
    for path in (root, CATALOG):
        with path.open("rb") as po:
            for message in read_po(po):
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                for text in strings:
                    assert not text or is_japanese(text), text
