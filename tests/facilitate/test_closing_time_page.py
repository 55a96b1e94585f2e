"""The facilitator's page of a round whose closing time has passed while it is still in a
voting phase says that votes are no longer taken, and how to go on (close it, or move the
closing time), instead of showing "Voting" as if it were open."""

from __future__ import annotations

from datetime import timedelta

from deliberation.models import utcnow


def test_the_facilitator_reads_that_voting_ended_at_the_closing_time(client, login_as,
                                                                      make_round) -> None:
    make_round(phase="voting", slug="late", closes_at=utcnow() - timedelta(hours=1))
    make_round(phase="voting", slug="open", closes_at=utcnow() + timedelta(hours=1))
    login_as("facilitator")
    page = client.get("/facilitate/rounds/late", headers={"Accept-Language": "en"}).text
    assert "The closing time has passed: no more votes or proposals are taken." in page
    ja = client.get("/facilitate/rounds/late", headers={"Accept-Language": "ja"}).text
    assert "締め切りの時刻を過ぎたため" in ja
    open_page = client.get("/facilitate/rounds/open", headers={"Accept-Language": "en"}).text
    assert "The closing time has passed" not in open_page
