"""The Japanese catalog is complete: every message in the code has a translation with the
same placeholders (a string added without one would show up in English on Japanese pages)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

REPO = Path(__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%%")


@pytest.fixture(scope="module")
def source_ids(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "_l", "--ignore-dirs=.* node_modules", "-o", str(pot), "."],
        cwd=REPO, check=True, capture_output=True, timeout=120,
    )
    with pot.open("rb") as handle:
        ids = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    assert len(ids) > 300, "extraction found too few messages: check babel.cfg"
    return ids


def _ja_catalog():
    with (REPO / "app/translations/ja/LC_MESSAGES/messages.po").open("rb") as handle:
        return read_po(handle)


def test_every_message_in_the_code_has_a_japanese_translation(source_ids: set[str]) -> None:
    translated = set()
    for message in _ja_catalog():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.id and not message.fuzzy and all(strings):
            translated.add(message.id if isinstance(message.id, str) else message.id[0])
    missing = sorted(source_ids - translated)
    assert not missing, f"untranslated (run `flask translate extract`, then translate): {missing[:10]}"


def test_translations_keep_their_placeholders() -> None:
    wrong = []
    for message in _ja_catalog():
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        wrong += [ids[0] for s in strings if s and set(PLACEHOLDER.findall(s)) != wanted]
    assert not wrong, wrong[:10]
