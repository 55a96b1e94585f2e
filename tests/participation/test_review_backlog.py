"""A round's public page says how many proposals wait for a facilitator's review and since
when: a moderator who leaves a popular idea pending, or a reported one hidden, for weeks
does so in the open, as one who rejects a published one does."""

from __future__ import annotations

from datetime import timedelta

from deliberation.models import utcnow
from tests.factories import make_proposal

EN = {"Accept-Language": "en"}
JA = {"Accept-Language": "ja"}


def test_the_round_page_counts_what_waits_for_review(client, make_round, db) -> None:
    round_ = make_round(phase="voting", slug="waiting", moderation_mode="strict")
    make_proposal(round_, "Published one")
    for days in (12, 3):
        make_proposal(round_, f"Waiting {days}", status="pending",
                      created_at=utcnow() - timedelta(days=days))
    make_proposal(round_, "Reported one", status="hidden")
    make_proposal(round_, "Rejected one", status="rejected")
    page = client.get("/rounds/waiting", headers=EN).text
    oldest = (utcnow() - timedelta(days=12)).astimezone().strftime("%Y")
    assert "2 new proposals are waiting for a facilitator's review" in page
    assert "the oldest since" in page and oldest in page
    assert "1 reported proposal is hidden until a facilitator reviews it" in page
    for text in ("Waiting 12", "Waiting 3", "Reported one", "Rejected one"):
        assert text not in page  # counts only: what waits is not public yet
    ja = client.get("/rounds/waiting", headers=JA).text
    assert "2件の新しい提案" in ja and "1件の通報された提案" in ja


def test_nothing_is_said_when_nothing_waits(client, make_round, db) -> None:
    round_ = make_round(phase="voting", slug="clear")
    make_proposal(round_, "Published one")
    page = client.get("/rounds/clear", headers=EN).text
    assert "waiting for a facilitator's review" not in page and "reported proposal" not in page
