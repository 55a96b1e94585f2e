"""Easy Japanese (やさしい日本語) for the interface: ``yasashii.po`` beside this file.

Its msgids are the interface's own (English) msgids; its msgstrs are written after the
national guideline (在留支援のためのやさしい日本語ガイドライン): short sentences, one idea
per sentence, everyday words. A message it lacks falls back to the usual Japanese, so the
file only holds what the key pages need to say more simply.

``EasyJapanese`` is a Flask-Babel domain that every request makes its default
(``Domain.as_default``). When the reader asked for easy Japanese, templates, views and
lazy strings all read the easy catalog first, and the interface catalog for every other
message (a gettext fallback); otherwise it is the interface catalog alone. The reader's
choice is looked up with the first message, not before the view: a request that never
shows text never loads the account.
"""

from __future__ import annotations

import io
from functools import cache

from babel import support
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask_babel import Domain

from app.reading.paths import CATALOG


@cache
def _compiled() -> bytes:
    """The catalog compiled in memory (no .mo file to build or to forget)."""
    with CATALOG.open("rb") as po_file:
        catalog = read_po(po_file, locale="ja")
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


@cache
def messages() -> dict[str, str]:
    """msgid → easy text; a plural message is keyed by its singular msgid and holds
    its one Japanese form (Japanese has no plural)."""
    with CATALOG.open("rb") as po_file:
        catalog = read_po(po_file, locale="ja")
    found: dict[str, str] = {}
    for message in catalog:
        if not message.id or not message.string:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        text = message.string[0] if isinstance(message.string, tuple) else message.string
        if text:
            found[key] = text
    return found


class EasyJapanese(Domain):
    """The interface's domain, with the easy catalog in front of its Japanese for readers
    of easy Japanese."""

    def __init__(self) -> None:
        super().__init__()
        self.easy: dict[int, support.Translations] = {}

    def get_translations(self) -> support.NullTranslations:
        from app.reading import mode

        usual = super().get_translations()
        if mode() != "easy":  # standard or furigana, or not Japanese (force_locale: mails)
            return usual
        easy = self.easy.get(id(usual))
        if easy is None:
            easy = support.Translations(io.BytesIO(_compiled()), domain="yasashii")
            easy.add_fallback(usual)
            self.easy[id(usual)] = easy
        return easy


EASY_JAPANESE = EasyJapanese()
