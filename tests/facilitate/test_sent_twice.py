"""Facilitator forms that create something, sent twice (a double click, a reload after
a slow answer, two facilitators at once): the second copy creates nothing and says why."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from deliberation.models import Participant, Workshop, utcnow
from tests import factories
from tests.facilitate.conftest import EN
from tests.races import committed_first

JA = {"Accept-Language": "ja"}
SHEET = {"label": "公民館 11月20日 用紙3", "kind": "resident"}
ROOM = {"label": "中央公民館 11月29日", "hours": "3", "seats": "40"}


def _labels(model) -> list[str]:
    return list(factories.db.session.scalars(sa.select(model.label).order_by(model.id)))


def test_an_assisted_sheet_sent_again_creates_no_second_participant(client, facilitator,
                                                                     db) -> None:
    factories.make_round(slug="a1", phase="voting")
    assert client.post("/facilitate/rounds/a1/assisted", data=SHEET).status_code == 303
    again = client.post("/facilitate/rounds/a1/assisted", data=SHEET, headers=JA)
    assert again.status_code == 400
    page = again.get_data(as_text=True)
    assert "「公民館 11月20日 用紙3」という名前の参加者はすでにいます" in page
    assert _labels(Participant) == [SHEET["label"]]
    # Another round may use the same label.
    factories.make_round(slug="a2", phase="voting")
    assert client.post("/facilitate/rounds/a2/assisted", data=SHEET).status_code == 303


def test_an_assisted_sheet_sent_twice_at_once_is_created_once(client, facilitator,
                                                             db) -> None:
    round_ = factories.make_round(slug="a1", phase="voting")
    other = sa.insert(Participant).values(round_id=round_.id, source="assisted",
                                          kind="resident", label=SHEET["label"],
                                          created_at=utcnow())
    with committed_first(Participant, lambda: other) as raced:
        response = client.post("/facilitate/rounds/a1/assisted", data=SHEET, headers=EN)
    assert raced
    assert response.status_code == 400
    assert "already a participant named" in response.get_data(as_text=True)
    assert _labels(Participant) == [SHEET["label"]]


def test_a_workshop_sent_again_opens_no_second_workshop(client, facilitator, db) -> None:
    factories.make_round(slug="w1", phase="voting")
    assert client.post("/facilitate/rounds/w1/workshops", data=ROOM).status_code == 303
    again = client.post("/facilitate/rounds/w1/workshops", data=ROOM, headers=JA)
    assert again.status_code == 409
    assert ("「中央公民館 11月29日」という名前のワークショップはすでにあります"
            in again.get_data(as_text=True))
    assert _labels(Workshop) == [ROOM["label"]]


def test_a_workshop_sent_twice_at_once_is_opened_once(client, facilitator, db) -> None:
    round_ = factories.make_round(slug="w1", phase="voting")
    now = utcnow()
    other = sa.insert(Workshop).values(round_id=round_.id, code="ABCDEFGHJK",
                                       label=ROOM["label"], seats=40, registrations=0,
                                       opened_at=now, closes_at=now + timedelta(hours=3))
    with committed_first(Workshop, lambda: other) as raced:
        response = client.post("/facilitate/rounds/w1/workshops", data=ROOM, headers=EN)
    assert raced
    assert response.status_code == 409
    assert "already a workshop named" in response.get_data(as_text=True)
    assert _labels(Workshop) == [ROOM["label"]]
