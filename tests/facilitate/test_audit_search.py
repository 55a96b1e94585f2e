"""Audit log pages: search actions and reasons, 50 entries to a page, bad input."""

from __future__ import annotations

import re

import pytest

from deliberation.models import audit

EN = {"Accept-Language": "en"}


def reasons(html: str) -> list[str]:
    return re.findall(r"<td>(理由[^<]*)</td>", html)


@pytest.fixture()
def log(db, make_round):
    round_ = make_round(slug="town")
    for n in range(120):
        audit.record("proposal.reject", actor=None, round_id=round_.id, reason=f"理由{n:03d} 重複")
    audit.record("proposal.publish", actor=None, round_id=round_.id, reason="理由 駐輪場の件 100%")
    audit.record("round.update", actor=None, reason="理由 全体設定")
    db.session.commit()
    return round_


def test_the_whole_log_is_reachable_page_by_page(client, login_as, log) -> None:
    login_as("facilitator")
    first = client.get("/facilitate/rounds/town/audit", headers=EN).get_data(as_text=True)
    assert "121 entries, newest first" in first and len(reasons(first)) == 50
    last = client.get("/facilitate/rounds/town/audit?page=3", headers=EN).get_data(as_text=True)
    assert reasons(last)[-1] == "理由000 重複" and len(reasons(last)) == 21
    assert "122 entries" in client.get("/facilitate/audit", headers=EN).get_data(as_text=True)


@pytest.mark.parametrize("query,expected", [
    ("駐輪", ["理由 駐輪場の件 100%"]),
    ("publish", ["理由 駐輪場の件 100%"]),
    ("%", ["理由 駐輪場の件 100%"]),
    ("理由119", ["理由119 重複"]),
    ("存在しない", []),
])
def test_search_actions_and_reasons(client, login_as, log, query, expected) -> None:
    login_as("facilitator")
    html = client.get("/facilitate/rounds/town/audit", query_string={"q": query}, headers=EN).get_data(as_text=True)
    assert reasons(html) == expected


@pytest.mark.parametrize("args", ["page=0", "page=zz", "page=99999999999999999999", "q=" + "x" * 500])
def test_bad_input_never_fails(client, login_as, log, args) -> None:
    login_as("facilitator")
    response = client.get(f"/facilitate/audit?{args}", headers=EN)
    assert response.status_code == 200 and len(reasons(response.get_data(as_text=True))) in (22, 50)
    if args.startswith("q="):  # the refusal takes the focus: an alert present at load is not read
        assert 'role="alert" tabindex="-1" autofocus>Please shorten your search' in response.get_data(as_text=True)


def test_citizens_cannot_read_the_log(client, login_as, log) -> None:
    login_as("citizen")
    assert client.get("/facilitate/audit?q=理由").status_code == 403


def test_actions_are_found_by_their_words_and_shown_without_codes(client, login_as, log) -> None:
    """The list names actions in words only; a search for those words finds them, in the
    reader's language, beside the stored code (for staff who know it)."""
    login_as("facilitator")
    html = client.get("/facilitate/rounds/town/audit", query_string={"q": "却下 理由119"},
                      headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert reasons(html) == ["理由119 重複"]
    assert "提案を却下" in html and "proposal.reject" not in html and "<code" not in html
    html = client.get("/facilitate/rounds/town/audit", query_string={"q": "rejected"},
                      headers=EN).get_data(as_text=True)
    assert len(reasons(html)) == 50  # "Proposal rejected": the 120 rejections, a page of them
    html = client.get("/facilitate/audit", query_string={"q": "設定を変更"},
                      headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert reasons(html) == ["理由 全体設定"]


def test_newest_first_is_by_the_time_shown(client, login_as, db, make_round) -> None:
    from datetime import timedelta

    from deliberation.models import utcnow

    round_ = make_round(slug="town")
    audit.record("proposal.reject", actor=None, round_id=round_.id, reason="理由 新しい")
    dated = audit.record("proposal.reject", actor=None, round_id=round_.id, reason="理由 古い")
    db.session.flush()
    dated.created_at = utcnow() - timedelta(days=30)  # written later, dated earlier
    db.session.commit()
    login_as("facilitator")
    page = client.get("/facilitate/rounds/town/audit", headers=EN).get_data(as_text=True)
    assert reasons(page) == ["理由 新しい", "理由 古い"]
