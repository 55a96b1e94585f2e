"""Workshops: a time-boxed link that lifts the per-address registration limit for a venue,
and registration forms that keep what was typed when a limit refuses them."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from deliberation.database import db as _db
from deliberation.models import AuditEntry, User, Workshop, utcnow
from deliberation.services import workshops
from tests import factories
from tests.races import committed_first
from tests.security.conftest import client_for, quick_user
from tests.test_auth import register_form

JA = {"Accept-Language": "ja"}
EN = {"Accept-Language": "en"}


def _users() -> int:
    return _db.session.scalar(sa.select(sa.func.count()).select_from(User))


def _register(client, n: int, code: str | None = None, address: str = "10.1.1.1",
              headers=JA, **overrides):
    data = register_form(**{"email": f"person{n}@example.org",
                            "display_name": f"参加者{n}", **overrides})
    if code is not None:
        data["workshop"] = code
    return client.post("/auth/register", data=data, headers=headers,
                       environ_base={"REMOTE_ADDR": address})


@pytest.fixture()
def room(limited_app: Flask):
    """A voting round with an open workshop (10 seats); REGISTER_RATE_LIMIT is 2 a minute."""
    round_ = factories.make_round(slug="machi", phase="voting", title="まちづくり")
    workshop = workshops.open_workshop(round_, actor=None, label="中央公民館 11月29日",
                                       hours=3, seats=10)
    return round_, workshop


def test_a_room_registers_through_the_workshop_link_beyond_the_address_limit(
        limited_app: Flask, room) -> None:
    _round, workshop = room
    client = limited_app.test_client()
    for n in range(6):  # three times the per-address limit, all from one address
        response = _register(client, n, workshop.code)
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
    assert _users() == 6
    _db.session.refresh(workshop)
    assert workshop.registrations == 6
    # Without the code the same address is limited as before.
    for n in range(6, 8):
        assert _register(client, n).status_code == 303
    refused = _register(client, 8)
    assert refused.status_code == 429
    assert _users() == 8


def test_a_refused_registration_keeps_what_was_typed_and_says_why_in_japanese(
        limited_app: Flask) -> None:
    client = limited_app.test_client()
    for n in range(2):
        assert _register(client, n).status_code == 303
    refused = _register(client, 2, display_name="山田花子", kind="resident",
                        password="secret words for me", password2="secret words for me")
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    html = refused.get_data(as_text=True)
    assert 'lang="ja"' in html
    assert "この接続から短い時間に多くのアカウントが作られました" in html
    assert "パスワードは保存していません" in html
    assert '<div class="error-box" role="alert" tabindex="-1" autofocus>' in html
    assert html.count("autofocus") == 1  # the reason, not a field
    assert 'value="person2@example.org"' in html and 'value="山田花子"' in html
    assert "secret words for me" not in html
    assert _users() == 2
    english = _register(client, 2, headers=EN).get_data(as_text=True)
    assert "Many accounts have just been created from this connection." in english


def test_invalid_input_through_the_workshop_keeps_the_code_and_takes_no_seat(
        limited_app: Flask, room) -> None:
    _round, workshop = room
    client = limited_app.test_client()
    response = _register(client, 1, workshop.code, password2="something else entirely")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'value="{workshop.code}"' in html and "中央公民館" in html
    assert 'value="person1@example.org"' in html
    _db.session.refresh(workshop)
    assert workshop.registrations == 0 and _users() == 0


def test_a_taken_address_through_the_workshop_answers_like_a_new_one(
        limited_app: Flask, room) -> None:
    _round, workshop = room
    factories.make_user(email="person1@example.org")
    client = limited_app.test_client()
    taken = _register(client, 1, workshop.code)
    fresh = _register(client, 2, workshop.code)
    assert taken.status_code == fresh.status_code == 303
    assert taken.headers["Location"] == fresh.headers["Location"]
    _db.session.refresh(workshop)
    assert workshop.registrations == 2  # the same work for both


def test_the_seats_cap_the_workshop(limited_app: Flask) -> None:
    round_ = factories.make_round(slug="small", phase="voting")
    workshop = workshops.open_workshop(round_, actor=None, label="小会議室", hours=1, seats=2)
    client = limited_app.test_client()
    for n in range(2):
        assert _register(client, n, workshop.code).status_code == 303
    # Full: the link no longer lifts the limit; the page says so and the usual limit counts.
    page = client.get(f"/auth/register?workshop={workshop.code}", headers=JA)
    assert "このワークショップのリンクは終了したか、定員に達しています" in page.get_data(as_text=True)
    assert _register(client, 2, workshop.code).status_code == 303
    assert _register(client, 3, workshop.code).status_code == 303
    assert _register(client, 4, workshop.code).status_code == 429
    _db.session.refresh(workshop)
    assert workshop.registrations == 2 and _users() == 4


def test_the_workshop_has_its_own_rate_limit(limited_app: Flask, room) -> None:
    _round, workshop = room
    limited_app.config["WORKSHOP_REGISTER_RATE_LIMIT"] = "3 per minute"
    client = limited_app.test_client()
    for n in range(3):
        assert _register(client, n, workshop.code, address=f"10.0.0.{n}").status_code == 303
    refused = _register(client, 3, workshop.code)
    assert refused.status_code == 429
    html = refused.get_data(as_text=True)
    assert "このワークショップのリンクから短い時間に多くのアカウントが作られました" in html
    assert f'value="{workshop.code}"' in html and 'value="person3@example.org"' in html
    assert _users() == 3


def test_a_closed_or_expired_workshop_lifts_nothing(limited_app: Flask, room) -> None:
    round_, workshop = room
    workshops.close_workshop(workshop, actor=None)
    old = workshops.open_workshop(round_, actor=None, label="昨日の会", hours=1, seats=10)
    old.closes_at = utcnow() - timedelta(minutes=1)
    _db.session.commit()
    client = limited_app.test_client()
    codes = [workshop.code, old.code]
    assert [_register(client, n, codes[n]).status_code for n in range(2)] == [303, 303]
    assert _register(client, 2, workshop.code).status_code == 429
    assert not workshops.take_seat(workshop) and not workshops.take_seat(old)
    _db.session.rollback()


def test_the_registration_mail_limit_keeps_the_form_too(limited_app: Flask) -> None:
    client = limited_app.test_client()
    for n in range(3):  # MAIL_REQUEST_RATE_LIMIT: 3 an hour per address typed in
        response = client.post("/auth/register", data=register_form(), headers=JA,
                               environ_base={"REMOTE_ADDR": f"10.2.0.{n}"})
        assert response.status_code == 303
    refused = client.post("/auth/register", data=register_form(), headers=JA,
                          environ_base={"REMOTE_ADDR": "10.2.0.9"})
    assert refused.status_code == 429
    html = refused.get_data(as_text=True)
    assert "このアドレスには少し前に何通かメールを送りました" in html
    assert 'value="hanako@example.org"' in html
    reset = client.post("/auth/reset", data={"email": "hanako@example.org"}, headers=JA,
                        environ_base={"REMOTE_ADDR": "10.2.0.10"})
    assert reset.status_code == 429
    assert 'value="hanako@example.org"' in reset.get_data(as_text=True)


def test_the_workshop_link_leads_to_registration_or_the_round(limited_app: Flask, room) -> None:
    round_, workshop = room
    client = limited_app.test_client()
    response = client.get(f"/w/{workshop.code.lower()}")
    assert response.status_code == 303
    assert response.headers["Location"] == \
        f"/auth/register?workshop={workshop.code}&next=/rounds/{round_.slug}"
    page = client.get(response.headers["Location"], headers=JA).get_data(as_text=True)
    assert "「中央公民館 11月29日」" in page and f'value="{workshop.code}"' in page
    # The page says where the person goes next, in words they need (not connection limits).
    assert "登録したあとログインすると、会場で投票する「まちづくり」に進みます。" in page
    assert "同じ接続" not in page
    # Registered there, the person logs in to the workshop's round, not to the home page.
    data = register_form(email="room@example.org", display_name="はなこ")
    data["workshop"] = workshop.code
    person = limited_app.test_client()
    registered = person.post(response.headers["Location"], data=data, headers=JA)
    assert registered.status_code == 303, registered.get_data(as_text=True)[:300]
    check_mail = person.get(registered.headers["Location"], headers=JA).get_data(as_text=True)
    assert f'href="/auth/login?next=/rounds/{round_.slug}"' in check_mail
    logged_in = person.post(f"/auth/login?next=/rounds/{round_.slug}", headers=JA, data={
        "email": "room@example.org", "password": data["password"]})
    assert logged_in.headers["Location"] == f"/rounds/{round_.slug}"
    bad = client.get("/w/%3Cscript%3E")
    assert bad.status_code == 303 and bad.headers["Location"] == "/auth/register?workshop=-"
    notice = client.get(bad.headers["Location"], headers=JA).get_data(as_text=True)
    assert "このリンクのワークショップはありません" in notice
    # a code typed by hand from the screen with one character wrong (S for 5): not said
    # to be closed or full, which sent people to register without it
    typo = workshop.code[:-1] + ("S" if workshop.code[-1] != "S" else "T")
    notice = client.get(f"/auth/register?workshop={typo}", headers=JA).get_data(as_text=True)
    assert "アドレスを確かめる" in notice and "定員に達しています" not in notice
    member = client_for(limited_app, quick_user())
    assert member.get(f"/w/{workshop.code}").headers["Location"] == f"/rounds/{round_.slug}"


# ------------------------------------------------------------------ facilitators


def test_a_facilitator_opens_prints_and_closes_a_workshop(limited_app: Flask) -> None:
    round_ = factories.make_round(slug="machi", phase="voting", title="まちづくり")
    client = client_for(limited_app, quick_user("facilitator"))
    page = client.get("/facilitate/rounds/machi/workshops", headers=JA)
    assert page.status_code == 200 and "ワークショップを開く" in page.get_data(as_text=True)
    response = client.post("/facilitate/rounds/machi/workshops", headers=JA,
                           data={"label": "中央公民館", "hours": "4", "seats": "80"})
    assert response.status_code == 303
    workshop = _db.session.scalar(sa.select(Workshop))
    assert response.headers["Location"] == f"/facilitate/rounds/machi/workshops/{workshop.id}"
    assert workshop.seats == 80 and workshop.is_open()
    assert timedelta(hours=3, minutes=59) < workshop.closes_at - workshop.opened_at \
        <= timedelta(hours=4)
    sheet = client.get(response.headers["Location"], headers=JA).get_data(as_text=True)
    # the address to type, in two groups of five, leads to the same registration
    typed = f"/w/{workshop.code[:5]}-{workshop.code[5:]}"
    assert typed in sheet and "qr.svg" in sheet
    assert limited_app.test_client().get(typed).headers["Location"].startswith(
        f"/auth/register?workshop={workshop.code}&")
    qr = client.get(f"/facilitate/rounds/machi/workshops/{workshop.id}/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    assert b"<svg" in qr.data and b"<script" not in qr.data
    opened = _db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "workshop.open"))
    assert opened.round_id == round_.id and opened.details["seats"] == 80
    closed = client.post(f"/facilitate/rounds/machi/workshops/{workshop.id}/close", headers=JA)
    assert closed.status_code == 303
    _db.session.refresh(workshop)
    assert not workshop.is_open()
    entry = _db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "workshop.close"))
    assert entry is not None and entry.target_id == workshop.id
    again = client.post(f"/facilitate/rounds/machi/workshops/{workshop.id}/close", headers=JA,
                        follow_redirects=True)
    assert "このワークショップはすでに閉じています" in again.get_data(as_text=True)


def test_a_workshop_closed_twice_at_once_is_closed_once(limited_app: Flask) -> None:
    """Two facilitators (or a double click) close the same workshop: the other request
    closed it between this one's check and its write."""
    factories.make_round(slug="machi", phase="voting")
    client = client_for(limited_app, quick_user("facilitator"))
    client.post("/facilitate/rounds/machi/workshops", data={"label": "公民館", "hours": "4",
                                                            "seats": "80"})
    workshop = _db.session.scalar(sa.select(Workshop))
    other = sa.update(Workshop).where(Workshop.id == workshop.id).values(closed_at=utcnow())
    with committed_first(Workshop, lambda: other) as raced:
        response = client.post(f"/facilitate/rounds/machi/workshops/{workshop.id}/close",
                               headers=JA, follow_redirects=True)
    assert raced
    assert "このワークショップはすでに閉じています" in response.get_data(as_text=True)
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "workshop.close")) == 0


@pytest.mark.parametrize(("field", "value", "message"), [
    ("label", "", "ワークショップの名前を入力してください"),
    ("label", "あ" * 81, "80文字以内"),
    ("hours", "0", "1以上12以下の整数"),
    ("hours", "13", "1以上12以下の整数"),
    ("hours", "abc", "整数"),
    ("seats", "0", "1以上500以下の整数"),
    ("seats", "501", "1以上500以下の整数"),
])
def test_bad_workshop_input_is_refused_in_japanese_and_stores_nothing(
        limited_app: Flask, field: str, value: str, message: str) -> None:
    factories.make_round(slug="machi", phase="voting")
    client = client_for(limited_app, quick_user("facilitator"))
    data = {"label": "中央公民館", "hours": "3", "seats": "60", field: value}
    response = client.post("/facilitate/rounds/machi/workshops", data=data, headers=JA)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html and "何も保存されていません" in html
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Workshop)) == 0
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0


def test_no_workshop_for_a_closed_round(limited_app: Flask) -> None:
    factories.make_round(slug="done", phase="closed")
    client = client_for(limited_app, quick_user("facilitator"))
    response = client.post("/facilitate/rounds/done/workshops", headers=JA,
                           data={"label": "会場", "hours": "3", "seats": "60"})
    assert response.status_code == 409
    assert "ラウンドは終了しています" in response.get_data(as_text=True)
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Workshop)) == 0


def test_only_facilitators_manage_workshops(limited_app: Flask, room) -> None:
    round_, workshop = room
    other = factories.make_round(slug="other", phase="voting")
    base = f"/facilitate/rounds/{round_.slug}/workshops"
    for role in ("citizen", "council"):
        client = client_for(limited_app, quick_user(role))
        assert client.get(base).status_code == 403
        assert client.post(base, data={"label": "x", "hours": "3", "seats": "9"}).status_code == 403
        assert client.get(f"{base}/{workshop.id}").status_code == 403
        assert client.get(f"{base}/{workshop.id}/qr.svg").status_code == 403
        assert client.post(f"{base}/{workshop.id}/close").status_code == 403
    anonymous = limited_app.test_client()
    assert anonymous.get(f"{base}/{workshop.id}").status_code == 303
    facilitator = client_for(limited_app, quick_user("facilitator"))
    # a workshop is reached only through its own round
    assert facilitator.get(f"/facilitate/rounds/{other.slug}/workshops/{workshop.id}"
                           ).status_code == 404
    assert facilitator.post(f"/facilitate/rounds/{other.slug}/workshops/{workshop.id}/close"
                            ).status_code == 404
    _db.session.refresh(workshop)
    assert workshop.is_open()
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Workshop)) == 1


def test_codes_are_read_as_typed() -> None:
    code = workshops.new_code()
    assert workshops.normalise_code(code.lower()) == code
    assert workshops.normalise_code(f" {code[:5]}-{code[5:]} ") == code
    for bad in ("", "O0O0O0O0O0", "x" * 41, None, 12, code + "A"):
        assert workshops.normalise_code(bad) is None


def test_codes_have_no_characters_confused_in_a_hall(limited_app: Flask, room) -> None:
    # Read aloud or off a projected screen, S/5, Z/2, B/8, O/0 and I/1/L are mistaken.
    issued = "".join(workshops.new_code() for _ in range(200))
    assert not set(issued) & set("S5Z2B8O0I1L")
    # A code printed before keeps working.
    round_, workshop = room
    workshop.code = "SZ2B85KQRT"
    _db.session.commit()
    client = limited_app.test_client()
    assert client.get("/w/sz2b8-5kqrt").headers["Location"] == \
        f"/auth/register?workshop=SZ2B85KQRT&next=/rounds/{round_.slug}"
    assert _register(client, 1, "SZ2B85KQRT").status_code == 303


def test_every_mistake_in_the_workshop_form_is_said_at_once(limited_app: Flask) -> None:
    """No name, 0 hours and 999 seats: three messages on the first answer, not one per
    attempt, each under its field, and what was typed stays."""
    factories.make_round(slug="machi", phase="voting")
    client = client_for(limited_app, quick_user("facilitator"))
    response = client.post("/facilitate/rounds/machi/workshops", headers=JA,
                           data={"label": " ", "hours": "0", "seats": "999"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    for message in ("ワークショップの名前を入力してください", "1以上12以下の整数",
                    "1以上500以下の整数"):
        assert message in html, message
    assert 'value="999"' in html
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Workshop)) == 0
