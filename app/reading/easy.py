"""Easy Japanese (やさしい日本語) for the interface: ``yasashii.po`` beside this file.

Its msgids are the interface's own (English) msgids; its msgstrs are written after the
national guideline (在留支援のためのやさしい日本語ガイドライン): short sentences, one idea
per sentence, everyday words. A message it lacks falls back to the usual Japanese, so the
file only holds what the key pages need to say more simply.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

CATALOG = Path(__file__).with_name("yasashii.po")


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
