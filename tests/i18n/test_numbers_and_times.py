"""Times are Japan time, and a reader in another language is told so; numbers are written as
the reader writes them."""

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


def test_the_rule_writes_its_numbers_as_the_reader_does(client, make_round) -> None:
    """A city-scale round asks for thousands of votes: 1,500, not 1500."""
    make_round(slug="city", phase="voting",
               threshold_policy={"min_votes": 1500, "min_group_size": 1200})
    en = client.get("/rounds/city", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "at least 1,200 people" in en and "at least 1,500 people have voted" in en
    ja = client.get("/rounds/city", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "1,200人以上の意見グループ" in ja and "1,500人以上が投票した" in ja
