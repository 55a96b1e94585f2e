"""CSRF on every state-changing request, found by walking the URL map."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from tests import factories
from tests.security.conftest import client_for, quick_user, table_counts

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}

# Endpoints that may accept writes without a CSRF token, with the reason. Keep this empty
# unless an endpoint authenticates by a token that a browser does not send by itself.
CSRF_EXEMPT: dict[str, str] = {
    "account.unsubscribe": "a mail's stop link: the signed token in the URL authenticates, "
                           "and mail clients post to it without a form (RFC 8058)",
}

DUMMY = {"int": "1", "id": "1", "string": "x", "path": "x", "default": "x", "uuid": "00000000-0000-0000-0000-000000000000"}


def dummy_url(rule) -> str:
    """The rule's path with placeholder arguments: CSRF is checked before the view runs."""

    def replace(match: re.Match) -> str:
        converter = (match.group(1) or "default").split("(")[0]
        return DUMMY.get(converter, "x")

    return re.sub(r"<(?:([^:<>]+):)?[^<>]+>", replace, rule.rule)


def state_changing_rules(app: Flask) -> list:
    return sorted(
        (
            (rule.endpoint, method, rule)
            for rule in app.url_map.iter_rules()
            for method in sorted((rule.methods or set()) & STATE_CHANGING)
        ),
        key=lambda item: (item[0], item[1]),
    )


def test_the_walk_finds_the_known_forms(app: Flask) -> None:
    endpoints = {endpoint for endpoint, _method, _rule in state_changing_rules(app)}
    assert {"auth.login", "auth.logout", "account.delete", "admin.set_role"} <= endpoints


def test_every_state_changing_request_needs_a_csrf_token(csrf_app: Flask, db) -> None:
    admin = quick_user("admin")
    round_ = factories.make_round()
    factories.make_proposal(round_)
    before = table_counts()
    checked = []
    for endpoint, method, rule in state_changing_rules(csrf_app):
        if endpoint in CSRF_EXEMPT:
            continue
        client = client_for(csrf_app, admin)
        url = dummy_url(rule)
        for kwargs in ({"data": {"x": "1"}}, {"json": {"x": 1}},
                       {"data": {"x": "1"}, "headers": {"HX-Request": "true"}}):
            response = client.open(url, method=method, **kwargs)
            assert response.status_code == 400, (endpoint, method, url, response.status_code)
        checked.append(endpoint)
        assert table_counts() == before, f"{method} {url} changed the database without a token"
    assert checked


def test_a_wrong_token_is_refused(csrf_app: Flask, db) -> None:
    client = client_for(csrf_app, quick_user())
    round_ = factories.make_round(phase="voting")
    form_page = f"/rounds/{round_.slug}/propose"
    before = table_counts()
    response = client.post(form_page, data={"text": "駅前に駐輪場を", "csrf_token": "forged"},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "so nothing was saved" in html and table_counts() == before
    # Reloading this answer would send the expired form again: the page links to the form.
    assert f'<a href="{form_page}">Open the page again</a>' in html


@pytest.mark.parametrize("via", ["form", "header"])
def test_a_valid_token_passes(csrf_app: Flask, db, via: str) -> None:
    client = client_for(csrf_app, quick_user())
    page = client.get("/privacy").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"|"X-CSRFToken": *"([^"]+)"', page)
    assert token, "base.html must expose the CSRF token for htmx"
    value = token.group(1) or token.group(2)
    if via == "form":
        response = client.post("/language", data={"lang": "en", "csrf_token": value})
    else:
        response = client.post("/language", data={"lang": "en"},
                               headers={"X-CSRFToken": value, "HX-Request": "true"})
    assert response.status_code == 303


def test_votes_from_the_card_need_the_pages_token(csrf_app: Flask, db) -> None:
    """htmx votes send the page's token (header) and the card form's; each card's form
    carries a token that keeps working, and a vote without one stores nothing."""
    round_ = factories.make_round(phase="voting")
    for _ in range(3):
        factories.make_proposal(round_)
    client = client_for(csrf_app, quick_user())
    page = client.get(f"/rounds/{round_.slug}/vote").get_data(as_text=True)
    header_token = re.search(r'"X-CSRFToken": *"([^"]+)"', page).group(1)
    before = table_counts()
    refused = client.post(f"/rounds/{round_.slug}/vote",
                          data={"proposal_id": re.search(r'name="proposal_id" value="(\d+)"',
                                                         page).group(1), "value": "1"},
                          headers={"HX-Request": "true", "Accept-Language": "en"})
    assert refused.status_code == 400 and "The form expired" in refused.get_data(as_text=True)
    assert table_counts() == before
    for value in ("1", "-1"):
        form_token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        proposal_id = re.search(r'name="proposal_id" value="(\d+)"', page).group(1)
        card = client.post(f"/rounds/{round_.slug}/vote",
                           data={"proposal_id": proposal_id, "value": value,
                                 "csrf_token": form_token},
                           headers={"HX-Request": "true", "X-CSRFToken": header_token})
        page = card.get_data(as_text=True)
        assert card.status_code == 200 and "vote-card" in page
    assert table_counts() != before


def test_a_vote_after_the_login_ended_asks_to_log_in_again_and_comes_back(csrf_app: Flask,
                                                                          db) -> None:
    """A phone left on the voting page until its session cookie expired: the vote says the
    login ended (not a bad request), stores nothing, and logging in leads back to the page."""
    round_ = factories.make_round(phase="voting")
    proposal = factories.make_proposal(round_)
    page_url = f"/rounds/{round_.slug}/proposals?q=x"
    page = client_for(csrf_app, quick_user()).get(f"/rounds/{round_.slug}/vote")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    ja = {"Accept-Language": "ja", "Referer": f"http://localhost{page_url}"}
    vote = {"proposal_id": str(proposal.id), "value": "1", "csrf_token": token}
    before = table_counts()
    expired = csrf_app.test_client()  # the cookie is gone; the page and its token are not
    refused = expired.post(f"/rounds/{round_.slug}/vote", data=vote, headers=ja)
    login = f"/auth/login?next=/rounds/{round_.slug}/proposals?q%3Dx"
    assert refused.status_code == 303 and refused.headers["Location"] == login
    shown = expired.get(login, headers=ja).get_data(as_text=True)
    assert "ログインが切れました" in shown and "不正なリクエスト" not in shown
    by_htmx = csrf_app.test_client().post(f"/rounds/{round_.slug}/vote", data=vote,
                                          headers={**ja, "HX-Request": "true"})
    assert by_htmx.status_code == 204 and by_htmx.headers["HX-Redirect"] == login
    assert table_counts() == before
    user = factories.make_user()
    token = re.search(r'name="csrf_token" value="([^"]+)"', shown).group(1)
    back = expired.post(login, data={"email": user.email, "password": factories.PASSWORD,
                                     "csrf_token": token})
    assert back.headers["Location"] == page_url
    # Logged in, a form whose token is stale says the page expired, in plain words.
    stale = client_for(csrf_app, quick_user()).post(
        f"/rounds/{round_.slug}/vote", data={**vote, "csrf_token": "old"}, headers=ja)
    assert stale.status_code == 400
    assert "ページの有効期限が切れました" in stale.get_data(as_text=True)


def test_a_proposal_refused_because_the_login_ended_gets_its_words_back(csrf_app: Flask,
                                                                       db) -> None:
    """Someone writes a long proposal slowly and their login ends before they send it: it
    is refused (stored nowhere), and after the new login the form asks the browser, once,
    to put back the words it kept (the session holds which form, never the words)."""
    round_ = factories.make_round(phase="collecting")
    user = factories.make_user()
    page = client_for(csrf_app, user).get(f"/rounds/{round_.slug}/propose")
    html = page.get_data(as_text=True)
    assert f'data-keep-draft="proposal:{round_.slug}:{user.id}"' in html
    assert "data-restore-draft" not in html and 'id="draft-restored"' not in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    words = "図書館の開館時間を平日の夜九時まで延ばしてほしい"
    before = table_counts()
    expired = csrf_app.test_client()
    refused = expired.post(f"/rounds/{round_.slug}/propose",
                           data={"text": words, "csrf_token": token},
                           headers={"Accept-Language": "ja"})
    login = f"/auth/login?next=/rounds/{round_.slug}/propose"
    assert refused.status_code == 303 and refused.headers["Location"] == login
    assert table_counts() == before
    with expired.session_transaction() as session:
        assert words not in repr(dict(session))
    shown = expired.get(login, headers={"Accept-Language": "ja"}).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', shown).group(1)
    back = expired.post(login, data={"email": user.email, "password": factories.PASSWORD,
                                     "csrf_token": token})
    assert back.headers["Location"] == f"/rounds/{round_.slug}/propose"
    form = expired.get(f"/rounds/{round_.slug}/propose",
                       headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert 'data-restore-draft="draft-restored"' in form
    assert "ログインし直す前に書いていた文章を、入力欄に戻しました" in form
    again = expired.get(f"/rounds/{round_.slug}/propose").get_data(as_text=True)
    assert "data-restore-draft" not in again  # once: a later visit starts afresh
