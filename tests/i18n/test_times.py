"""Times are Japan time; a reader in another language is told so, wherever they live."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest


@pytest.mark.parametrize(("lang", "shown", "not_shown"), [
    ("en", "Closes 1/14/27, 5:00\u202fPM (Japan Time)", None),
    ("ja", "2027/01/14 17:00", "日本時間"),
])
def test_a_round_closes_at_a_time_in_japan(client, make_round, lang, shown, not_shown) -> None:
    make_round(slug="station", title="駅前", phase="voting",
               closes_at=datetime(2027, 1, 14, 8, 0, tzinfo=UTC))
    page = client.get("/rounds/station", headers={"Accept-Language": lang}).get_data(as_text=True)
    assert shown in page
    if not_shown:
        assert not_shown not in page
