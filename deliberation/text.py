"""Text normalisation shared by proposal services and imports."""

from __future__ import annotations

import re
import unicodedata

from deliberation.errors import N_

_SPACE = re.compile(r"\s+")
# Control characters, bidirectional overrides/isolates and zero-width marks. Zero-width
# (non-)joiners stay: emoji sequences and some scripts need them.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb]"
)

# Every upload that must be UTF-8 text (seed proposals, a Pol.is export) is refused in these
# words: Excel in Japan saves a CSV as Shift_JIS unless asked otherwise.
NOT_UTF8 = N_("The file is not UTF-8 text (it may be in Shift_JIS). Save it as UTF-8 (in "
              "Excel: “CSV UTF-8”) and upload it again.")


def clean_text(text: str) -> str:
    """Strip control and format characters (incl. RTL overrides), keep newlines and emoji."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return _INVISIBLE.sub("", text).strip()


def text_key(text: str) -> str:
    """A key under which near-identical proposals collide (duplicate detection)."""
    key = unicodedata.normalize("NFKC", text).casefold()
    key = "".join(ch for ch in key if unicodedata.category(ch)[0] not in {"P", "S", "C"})
    return _SPACE.sub(" ", key).strip()[:512]
