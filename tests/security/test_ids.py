"""Ids from outside (paths, forms, JSON) that cannot name a row: a 404 or 400 with a
translated message, nothing stored, never a 500."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deliberation.engine import escalation
from deliberation.ids import MAX_ID, parse_id
from deliberation.models import Proposal, User
from deliberation.services import facilitation
from tests import factories
from tests.security.conftest import client_for, quick_user, table_counts

JA = {"Accept-Language": "ja"}
NO_SUCH_PROPOSAL = "この提案には投票できません。このラウンドには、この番号の公開されている提案はありません。"
HUGE = "99999999999999999999"
ARG = re.compile(r"<(?:([^:<>]+):)?([^<>]+)>")

BAD_IDS = [HUGE, str(MAX_ID + 1), "0", "-1", "+1", "01", " 1", "1 ", "1.0", "1e30", "Infinity",
           "NaN", "true", "١", "²", "１", "9" * 5000, "0x1", "\x00", ""]


def test_parse_id_accepts_only_ascii_ids_in_range() -> None:
    assert parse_id("1") == 1 and parse_id(MAX_ID) == MAX_ID and parse_id(str(MAX_ID)) == MAX_ID
    for bad in [*BAD_IDS, MAX_ID + 1, 0, -5, True, False, 1.0, 1e30, float("inf"), None, [1]]:
        assert parse_id(bad) is None, bad


def id_rules(app: Flask) -> list:
    return sorted((r for r in app.url_map.iter_rules() if "<id:" in r.rule), key=lambda r: r.rule)


def test_every_id_in_a_path_uses_the_id_converter(app: Flask) -> None:
    """A route added with ``<int:...>`` (unbounded, any script's digits) fails here."""
    for rule in app.url_map.iter_rules():
        for converter, name in ARG.findall(rule.rule):
            if name.endswith("_id") or converter in {"int", "float"}:
                assert converter == "id", rule.rule
    assert len(id_rules(app)) >= 9


@pytest.fixture()
def world(app: Flask, db) -> dict:
    """A round with a proposal, an escalation and an assisted participant; an admin."""
    round_ = factories.make_round(phase="voting")
    proposal = factories.make_proposal(round_, "Shade trees on the main street")
    admin = quick_user("admin")
    escalation.escalate_manually(proposal.id, actor=admin, reason="test")
    facilitation.create_assisted_participant(round_, label="Workshop #1", kind="resident",
                                             actor=admin)
    return {"round": round_, "proposal": proposal, "admin": admin}


ids = st.one_of(
    st.sampled_from([*BAD_IDS, "1", "2", "3", str(MAX_ID)]),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=12),
    st.text(max_size=20),
)


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@pytest.mark.slow  # hypothesis: 150 generated ids over every route
@given(data=st.data())
def test_no_id_in_any_path_gives_a_server_error(app: Flask, world: dict, data) -> None:
    rules = id_rules(app)
    client = client_for(app, world["admin"])
    rule = data.draw(st.sampled_from(rules), label="rule")
    raw = data.draw(ids, label="id")

    def fill(match: re.Match) -> str:
        converter, name = match.groups()
        if converter == "id":
            return quote(raw, safe="")
        assert name == "slug", rule.rule
        return world["round"].slug

    url = ARG.sub(fill, rule.rule)
    for method in sorted((rule.methods or set()) & {"GET", "POST"}):
        response = client.open(url, method=method, headers=JA)
        assert response.status_code < 500, (method, url, response.status_code)
        if parse_id(raw) is None:
            assert response.status_code == 404, (method, url, response.status_code)
            assert "見つかりません" in response.get_data(as_text=True) or \
                "ありません" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", [
    "/agenda/items/{huge}", "/agenda/council/items/{huge}", "/agenda/council/items/{huge}/dossier",
    "/facilitate/rounds/{slug}/assisted/{huge}", "/rounds/{slug}/proposals/{huge}",
    "/rounds/{slug}/proposals/{huge}/report", "/agenda/manage/items/{huge}/withdraw",
    "/rounds/{slug}/proposals/%D9%A1",  # an Arabic-Indic digit one
])
def test_large_and_foreign_digit_ids_in_paths_are_404(app: Flask, world: dict, path: str) -> None:
    client = client_for(app, world["admin"])
    response = client.get(path.format(huge=HUGE, slug=world["round"].slug), headers=JA)
    assert response.status_code == 404
    assert "このアドレスのページはありません" in response.get_data(as_text=True)


def test_admin_role_with_a_huge_or_foreign_digit_id_is_404_and_changes_nothing(
        app: Flask, world: dict, db) -> None:
    citizen = quick_user()
    client = client_for(app, world["admin"])
    before = table_counts()
    arabic = "".join(chr(0x0660 + int(d)) for d in str(citizen.id))
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in str(citizen.id))
    for user_id in (HUGE, quote(arabic), quote(fullwidth), "0", f"0{citizen.id}"):
        response = client.post(f"/admin/users/{user_id}/role", data={"role": "admin"},
                               headers=JA)
        assert response.status_code == 404, user_id
    assert table_counts() == before
    db.session.expire_all()
    assert db.session.get(User, citizen.id).role == "citizen"


@pytest.mark.parametrize("bad", [HUGE, "1e30", "Infinity", "9" * 5000, "true", "١", "²"])
@pytest.mark.parametrize("htmx", [False, True])
def test_vote_form_refuses_bad_proposal_ids(app: Flask, world: dict, db, bad: str,
                                            htmx: bool) -> None:
    citizen = quick_user()
    client = client_for(app, citizen)
    headers = {**JA, **({"HX-Request": "true"} if htmx else {})}
    before = table_counts()
    response = client.post(f"/rounds/{world['round'].slug}/vote",
                           data={"proposal_id": bad, "value": "1"}, headers=headers)
    assert response.status_code < 500
    if htmx:
        assert NO_SUCH_PROPOSAL in response.get_data(as_text=True)
    else:
        assert response.status_code == 303
        page = client.get(response.headers["Location"], headers=JA)
        assert NO_SUCH_PROPOSAL in page.get_data(as_text=True)
    assert table_counts() == before


@pytest.mark.parametrize("bad", ["²", "١", "１", HUGE, "1e30", "-1", ""])
def test_moderation_refuses_ids_that_are_not_ascii_ids(app: Flask, world: dict, db,
                                                       bad: str) -> None:
    round_, proposal = world["round"], world["proposal"]
    client = client_for(app, quick_user("facilitator"))
    before = table_counts()
    response = client.post(f"/facilitate/rounds/{round_.slug}/moderation", headers=JA,
                           data={"proposal_id": [str(proposal.id), bad], "action": "reject",
                                 "reason": "spam"})
    assert response.status_code == 400
    assert "選んだ提案の一部は、このラウンドのものではありません。" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).status == "published"
    assert table_counts() == before


def test_moderation_still_works_with_ascii_ids(app: Flask, world: dict, db) -> None:
    round_, proposal = world["round"], world["proposal"]
    client = client_for(app, quick_user("facilitator"))
    response = client.post(f"/facilitate/rounds/{round_.slug}/moderation",
                           data={"proposal_id": str(proposal.id), "action": "reject",
                                 "reason": "spam"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).status == "rejected"


def test_manual_escalation_refuses_a_foreign_digit_proposal_id(app: Flask, world: dict) -> None:
    round_ = world["round"]
    other = factories.make_proposal(round_, "Benches in the park")
    client = client_for(app, quick_user("facilitator"))
    before = table_counts()
    arabic = "".join(chr(0x0660 + int(d)) for d in str(other.id))
    response = client.post(f"/agenda/manage/rounds/{round_.slug}/escalate", headers=JA,
                           data={"proposal_id": arabic, "reason": "because"})
    assert response.status_code == 400
    assert table_counts() == before


# ------------------------------------------------------------------ JSON API


def _api_vote(client, slug: str, body: str):
    return client.post(f"/api/v1/rounds/{slug}/votes", data=body,
                       headers={**JA, "Content-Type": "application/json"})


@pytest.mark.parametrize("proposal_id", [
    HUGE, f'"{HUGE}"', '"' + "9" * 5000 + '"', "1e30", "true", '"١"', "-1", "0", "1.0", "null",
    "[1]", '{"id": 1}',
])
def test_api_vote_refuses_ids_that_cannot_name_a_proposal(app: Flask, world: dict, db,
                                                          proposal_id: str) -> None:
    client = client_for(app, quick_user())
    before = table_counts()
    response = _api_vote(client, world["round"].slug, f'{{"proposal_id": {proposal_id}, "value": 1}}')
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == NO_SUCH_PROPOSAL
    assert table_counts() == before  # not even a participation


@pytest.mark.parametrize("body,message", [
    ('{"proposal_id": Infinity, "value": 1}', "JSON として読み取れません"),
    ('{"proposal_id": NaN, "value": 1}', "JSON として読み取れません"),
    ('{"proposal_id": 1, "value": -Infinity}', "JSON として読み取れません"),
    ('{"proposal_id": ' + "9" * 5000 + ', "value": 1}', "JSON として読み取れません"),
    ("[" * 30_000 + "]" * 30_000, "入れ子が深すぎます"),
    ('{"a": ' * 21 + "1" + "}" * 21, "入れ子が深すぎます"),
    ('{"text": "' + "x" * 70_000 + '"}', "大きすぎます"),
    ("{", "JSON として読み取れません"),
])
def test_api_refuses_bad_json_with_a_400(app: Flask, world: dict, db, body: str,
                                         message: str) -> None:
    client = client_for(app, quick_user())
    before = table_counts()
    response = _api_vote(client, world["round"].slug, body)
    assert response.status_code == 400
    assert message in response.get_json()["error"]["message"]
    assert table_counts() == before


def test_api_accepts_nesting_and_strings_with_brackets_within_limits(
        app: Flask, world: dict, db) -> None:
    client = client_for(app, quick_user())
    body = {"proposal_id": world["proposal"].id, "value": 1, "note": "[[[[{{{{" * 50,
            "nested": json.loads('{"a": ' * 18 + "1" + "}" * 18)}
    response = _api_vote(client, world["round"].slug, json.dumps(body))
    assert response.status_code == 200, response.get_json()


def test_slug_that_no_round_can_have_is_404(app: Flask, world: dict) -> None:
    client = client_for(app, world["admin"])
    for path in ("/rounds/a%00b", "/rounds/a%00b/vote", "/api/v1/rounds/a%00b",
                 "/facilitate/rounds/a%00b", "/rounds/" + "a" * 300):
        assert client.get(path, headers=JA).status_code == 404, path
