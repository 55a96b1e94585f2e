"""Every table scroll container can be reached with the keyboard: it scrolls both ways (its
headers stick), so a keyboard user must be able to focus it (axe: scrollable-region-focusable)."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def test_table_scroll_containers_are_focusable_regions() -> None:
    found, wrong = 0, []
    for path in TEMPLATES.rglob("*.html"):
        for tag in re.findall(r'<div class="table-scroll"[^>]*>', path.read_text(encoding="utf-8")):
            found += 1
            if 'tabindex="0"' not in tag or 'role="region"' not in tag or "aria-label" not in tag:
                wrong.append(f"{path.relative_to(TEMPLATES)}: {tag}")
    assert found > 10
    assert not wrong, wrong
