"""Times are Japan time, and a reader in another language is told so; numbers are written as
the reader writes them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from deliberation.database import db
from deliberation.engine import escalation
from deliberation.models import AuditEntry
from tests import factories


@pytest.mark.parametrize(("lang", "shown", "not_shown"), [
    # the year in full and the month in words: 1/14/27 is another day for most of the world
    ("en", "Closes Jan 14, 2027, 5:00\u202fPM (Japan Time)", "1/14/27"),
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


def test_a_resident_reads_times_to_the_minute_and_the_audit_log_to_the_second(
        client, make_round, login_as) -> None:
    """Seconds on a deadline are noise to a resident; an auditor matching entries against
    the CSV export and the server's logs needs them."""
    round_ = make_round(slug="harbour", phase="voting")
    proposal = factories.make_proposal(round_, "港のベンチ")
    esc = escalation.escalate_manually(proposal.id, actor=factories.make_user("facilitator"),
                                       reason="町民集会で話し合いました")
    at = datetime(2026, 11, 30, 14, 19, 26, tzinfo=UTC)  # 23:19:26 in Tokyo
    esc.escalated_at = at
    for entry in db.session.scalars(db.select(AuditEntry)):
        entry.created_at = at
    db.session.commit()
    item = client.get(f"/agenda/items/{esc.id}").get_data(as_text=True)
    assert "2026/11/30 23:19" in item and "23:19:26" not in item
    english = client.get(f"/agenda/items/{esc.id}", headers={"Accept-Language": "en"})
    assert "Nov 30, 2026, 11:19\u202fPM (Japan Time)" in english.get_data(as_text=True)
    login_as("facilitator")
    audit = client.get("/facilitate/rounds/harbour/audit").get_data(as_text=True)
    assert "2026/11/30 23:19:26" in audit


def test_a_closed_round_says_when_it_closed(client, make_round) -> None:
    """Not "終了 2026/11/30 23:49 終了": a closed round's date is when it ended."""
    make_round(slug="ended", title="港", phase="closed",
               closes_at=datetime(2026, 11, 30, 14, 49, tzinfo=UTC))
    ja = client.get("/rounds/ended").get_data(as_text=True)
    assert "2026/11/30 23:49に終了しました" in ja and "23:49 終了" not in ja
    en = client.get("/rounds/ended", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Closed on Nov 30, 2026, 11:49\u202fPM (Japan Time)" in en


def test_the_evidence_writes_a_large_conversation_s_counts_with_separators(client,
                                                                         make_round) -> None:
    """An imported Pol.is conversation can hold thousands of statements: 1,234, not 1234."""
    round_ = make_round(slug="big", phase="voting")
    proposal = factories.make_proposal(round_, "駅前のベンチ")
    esc = escalation.escalate_manually(proposal.id, actor=factories.make_user("facilitator"),
                                       reason="町民集会で話し合いました")
    esc.evidence = {**esc.evidence, "snapshot": {
        "created_at": "2026-11-30T14:19:00+00:00",
        "manifest": {"n_votes": 56789, "n_participants": 2345, "n_statements": 1234,
                     "method": "pca", "parameters": {"max_groups": 5}}}}
    db.session.commit()
    page = client.get(f"/agenda/items/{esc.id}").get_data(as_text=True)
    assert "1,234件の提案" in page and "2,345人の56,789票" in page
