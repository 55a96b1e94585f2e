"""Admin accounts list: search by e-mail or name, pages, bad input, roles."""

from __future__ import annotations

import re

import pytest

from tests.factories import make_user

EN = {"Accept-Language": "en"}


def emails(html: str) -> list[str]:
    return re.findall(r"<td>([^<>\s]+@[^<>\s]+)</td>", html)


def test_search_by_name_or_email_in_japanese(client, login_as) -> None:
    login_as("admin", email="admin@example.org")
    make_user(email="hanako@example.org", display_name="山田花子")
    make_user(email="taro_s@example.org", display_name="佐藤太郎")
    make_user(email="x%y@example.org", display_name="Percent")
    page = lambda q: client.get("/admin/users", query_string={"q": q}, headers=EN).get_data(as_text=True)  # noqa: E731
    assert emails(page("花子")) == ["hanako@example.org"]
    assert emails(page("田花")) == ["hanako@example.org"]
    assert emails(page("HANAKO")) == ["hanako@example.org"]
    assert emails(page("o_s")) == ["taro_s@example.org"]
    assert emails(page("%")) == ["x%y@example.org"]
    assert emails(page("_")) == ["taro_s@example.org"]
    assert len(emails(page(""))) == 4
    assert "No accounts match your search." in page("存在しない")
    ja = client.get("/admin/users", query_string={"q": "x" * 101}, headers={"Accept-Language": "ja"})
    assert ja.status_code == 200 and "検索語は100文字以内にしてください" in ja.get_data(as_text=True)
    # an alert present at load is not read out: the message takes the focus
    assert 'role="alert" tabindex="-1" autofocus>検索語は100文字以内' in ja.get_data(as_text=True)


@pytest.mark.parametrize("page", ["2", "-1", "x", "10000000000000000000000"])
def test_pages_of_fifty_and_bad_page_numbers(client, login_as, page) -> None:
    login_as("admin")
    for _ in range(55):
        make_user()
    response = client.get(f"/admin/users?page={page}", headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert len(emails(html)) in (50, 6)
    assert "56 accounts" in html


def test_htmx_gets_the_table_only(client, login_as) -> None:
    login_as("admin")
    response = client.get("/admin/users?q=user", headers={"HX-Request": "true", **EN})
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="user-results"') and "<h1" not in html


@pytest.mark.parametrize("role,status", [(None, 303), ("citizen", 403), ("facilitator", 403)])
def test_only_admins_search_accounts(client, login_as, role, status) -> None:
    if role:
        login_as(role)
    assert client.get("/admin/users?q=a").status_code == status
