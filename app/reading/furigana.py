"""Furigana: readings in hiragana over the kanji of an HTML page, as ``<ruby>`` markup.

Readings come from MeCab (fugashi) with UniDic Lite, a dictionary shipped inside its
package (nothing is downloaded). A morphological analyser reads words in context: 人 in
ほかの人 is ひと and 今日は is きょう は, where a dictionary-only converter such as pykakasi
says にん and こんにちは. Its words come with their okurigana (話し合う → はなしあう);
``ruby_for`` puts each reading over its kanji only
(<ruby>話<rt>はな</rt></ruby>し<ruby>合<rt>あ</rt></ruby>う).

The ``<rt>`` carries ``aria-hidden="true"``: without it Chromium exposes both the word
and its reading, and a screen reader reads 漢字 かんじ (tests/e2e/test_reading.py checks
the accessibility tree).
"""

from __future__ import annotations

import html as html_entities
import re
import threading
from functools import lru_cache
from typing import Any

from markupsafe import escape

KANJI = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヶ"
_has_kanji = re.compile(f"[{KANJI}]").search
_runs = re.compile(f"[{KANJI}]+|[^{KANJI}]+")
_has_kana = re.compile("[\u3041-\u3096\u30a1-\u30fa\u30fc\uff66-\uff9d]").search
# Simplified and traditional Chinese characters that written Japanese does not use: the
# Japanese forms differ (这/這 for これ, 们/們, 说/說 for 説, 对/對 for 対, 会 is 會...).
_chinese_only = re.compile(
    "[这這们們说說对對时过发發问题让讓现实實经經关關样樣长门东车吗嗎呢吧么麼个给从從她哪啊"
    "會錄录與體擇验驗歡來应應该为爲网线业务费员种电话开间动进还认计划设买卖书见观视听"
    "读讲语论议记钱银铁办农产乐厅據內價區國學數處檢變雙辦灣條權稅邊點當裡覺讀聽營險"
    "輛乘號歲]").search
# Chinese punctuation: its comma, and a sentence's end in text without the Japanese comma
# (送信 5件、失敗 0件。 is Japanese).
_chinese_comma = re.compile("[，；]").search
_sentence_end = re.compile("[。！？]").search
# A tag (quoted attribute values may hold ">"), a comment, or a run of text.
_tokens = re.compile(r"<!--.*?-->|<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>|[^<]+|<", re.S)
_tag_name = re.compile(r"</?([a-zA-Z][a-zA-Z0-9-]*)")
# Text inside these elements is left alone: it is not shown as text (title, script...),
# cannot hold markup (textarea, option), is already annotated (ruby), or is SVG.
SKIPPED = frozenset({"script", "style", "title", "textarea", "option", "select", "ruby",
                     "svg", "code", "pre", "template"})
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
                  "meta", "source", "track", "wbr"})

_lock = threading.Lock()
_tagger: Any = None


def _analyser() -> Any:
    """One MeCab tagger per process, made on first use (pages in standard Japanese never
    load the dictionary)."""
    global _tagger
    with _lock:
        if _tagger is None:
            import fugashi

            _tagger = fugashi.Tagger()
        return _tagger


def to_hiragana(text: str) -> str:
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in text)


def readings(text: str) -> list[tuple[str, str]]:
    """(written form, reading in hiragana) for each piece of ``text``: the words MeCab
    finds, and the spaces between them as they are (reading "")."""
    tagger = _analyser()
    with _lock:  # a MeCab tagger is not safe to share between threads at once
        words = [(w.white_space, w.surface, w.feature.kana) for w in tagger(text)]
    pieces: list[tuple[str, str]] = []
    for space, surface, kana in words:
        if space:
            pieces.append((space, ""))
        # words unknown to the dictionary (names, new words) have no reading
        reading = to_hiragana(kana) if isinstance(kana, str) else ""
        reading = _PREFERRED.get(surface, reading)
        number = _number_before(pieces)
        if number is not None and not space:
            reading = _counter_reading(number, surface, reading)
            if surface == "人" and number in _PEOPLE_BY_WORD:
                # 1人 and 2人 are words of their own (ひとり, ふたり): one ruby over both
                pieces[-1] = (pieces[-1][0] + surface, _PEOPLE_BY_WORD[number])
                continue
        pieces.append((surface, reading))
    consumed = sum(len(a) + len(b) for a, b, _ in words)
    if consumed < len(text):  # trailing spaces
        pieces.append((text[consumed:], ""))
    for i, (surface, _) in enumerate(pieces[:-1]):
        if surface == "何" and pieces[i + 1][0] in _NANI_BEFORE:
            pieces[i] = (surface, "なに")
    return pieces


# Where UniDic's first reading is not the one a reader expects: 日本 alone is にっぽん to
# it, so やさしい日本語, the name the national guidelines and every reader use, would read
# やさしいにっぽんご in the header of every page.
_PREFERRED = {"日本": "にほん"}
# UniDic reads 何 なん whatever follows; before these particles it is なに (何を優先するか,
# 何に使ったか, 何か), and なん stays before a counter or の (何人, 何の).
_NANI_BEFORE = frozenset({"を", "が", "に", "か", "も", "へ", "から", "まで", "より"})
# Counted people read as words of their own: 1人 is ひとり and 2人 ふたり, not いちにん.
_PEOPLE_BY_WORD = {1: "ひとり", 2: "ふたり"}


def _number_before(pieces: list[tuple[str, str]]) -> int | None:
    """The number the last pieces write (1,921 comes as 1 , 921), or None."""
    if not pieces or not pieces[-1][0].isdecimal():
        return None
    digits = [pieces[-1][0]]
    i = len(pieces) - 2
    while i >= 1 and pieces[i][0] == "," and pieces[i - 1][0].isdecimal():
        digits.insert(0, pieces[i - 1][0])
        i -= 2
    return int("".join(digits))


# Days of the month read with -か (ふつか, みっか ... はつか); the others with にち.
_DAYS_IN_KA = frozenset({2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 20, 24})


def _counter_reading(number: int, counter: str, reading: str) -> str:
    """MeCab reads a counter after digits on its own (29日 as 29 か, 30分 as 30 ふん);
    the dates and times on every page need the right one."""
    if counter == "日":
        return "か" if number in _DAYS_IN_KA else "にち"
    if counter == "分":
        return "ぷん" if number % 10 in (0, 1, 3, 4, 6, 8) else "ふん"
    return reading


def ruby_for(word: str, reading: str) -> str:
    """HTML for one word: its kanji runs in ruby, its kana as they are (escaped)."""
    if not _has_kanji(word) or not reading or reading == word:
        return str(escape(word))
    runs = _runs.findall(word)
    pattern = "".join("(.+?)" if _has_kanji(run) else f"({re.escape(to_hiragana(run))})"
                      for run in runs)
    match = re.fullmatch(pattern, reading)
    if match is None:  # the reading does not line up with the kana: one ruby for the word
        return _ruby(word, reading)
    return "".join(_ruby(run, part) if _has_kanji(run) else str(escape(run))
                   for run, part in zip(runs, match.groups(), strict=True))


def _ruby(base: str, reading: str) -> str:
    return f'<ruby>{escape(base)}<rt aria-hidden="true">{escape(reading)}</rt></ruby>'


def is_japanese(text: str) -> bool:
    """Whether text with kanji is Japanese rather than Chinese (a proposal written in
    Chinese by a resident): Japanese sentences have kana. Text without any is Chinese when
    it uses characters Japanese does not, Chinese punctuation (我是計程車司機。), or is as
    long as a sentence; a Japanese name or heading without kana (地域活性化推進事業計画)
    is none of these."""
    if _has_kana(text):
        return True
    return not (_chinese_only(text) or _chinese_comma(text)
                or (_sentence_end(text) and "、" not in text)
                or len(re.findall(f"[{KANJI}]", text)) >= 14)


@lru_cache(maxsize=50_000)
def annotate_text(text: str) -> str:
    """A text node as it stands in a page (entities and all) with ruby over its kanji,
    if it is Japanese: Chinese read in Japanese would be wrong and no help."""
    if not _has_kanji(text):
        return text
    plain = html_entities.unescape(text)
    if not is_japanese(plain):
        return text
    return "".join(ruby_for(w, r) for w, r in readings(plain))


def annotate_html(html: str) -> str:
    """Ruby over the kanji in the text of an HTML document or fragment; tags, attribute
    values and the text of ``SKIPPED`` elements are left as they are."""
    out: list[str] = []
    skipping: list[str] = []  # open SKIPPED elements, innermost last
    for token in _tokens.findall(html):
        if token.startswith("<"):
            out.append(token)
            name_match = _tag_name.match(token)
            if name_match is None:
                continue
            name = name_match.group(1).lower()
            if token.startswith("</"):
                if skipping and skipping[-1] == name:
                    skipping.pop()
            elif name in SKIPPED and name not in VOID and not token.endswith("/>"):
                skipping.append(name)
        elif skipping or not _has_kanji(token):
            out.append(token)
        else:
            # One span around the annotated text: in a flex container (buttons, links laid
            # out as flex) each ruby would otherwise become an item of its own.
            out.append(f"<span>{annotate_text(token)}</span>")
    return "".join(out)
