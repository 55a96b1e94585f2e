"""Nobody can tell the id of an unpublished proposal (pending, rejected, hidden after
reports) from an id that names no proposal of the round: every public channel that takes a
proposal id answers both the same, so nobody lists the proposals waiting for review, those
a moderator turned down, or when they were written, by trying ids one after the other.

A hidden proposal's own page is the exception on purpose: it was public, and its page says
"under review" instead of vanishing (tests/participation: reports)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.security.conftest import client_for, quick_user, table_counts

JA = {"Accept-Language": "ja"}
STATUSES = ("pending", "rejected", "hidden")
# The form's token and the one htmx sends: signed with the second they were made in, so
# two pages a second apart differ there and nowhere else.
CSRF = re.compile(r'(?<=name="csrf_token" value=")[^"]+|(?<="X-CSRFToken": ")[^"]+')


@pytest.fixture()
def ids(app: Flask, db) -> dict[str, int]:
    round_ = factories.make_round(phase="voting", slug="town")
    factories.make_proposal(round_, "Published: benches by the river")
    other = factories.make_round(phase="voting")
    made = {status: factories.make_proposal(round_, f"{status} proposal", status=status).id
            for status in STATUSES}
    made["of another round"] = factories.make_proposal(other, "Elsewhere").id
    made["no proposal"] = max(made.values()) + 1000
    return made


def _answers(client, proposal_id: int) -> list[tuple]:
    """What each channel says about a vote on ``proposal_id`` (ids blanked out)."""
    form = {"proposal_id": str(proposal_id), "value": "1"}
    htmx = client.post("/rounds/town/vote", data=form, headers={**JA, "HX-Request": "true"})
    plain = client.post("/rounds/town/vote", data=form, headers=JA)
    flashed = client.get(plain.headers["Location"], headers=JA)
    api = client.post("/api/v1/rounds/town/votes", json={"proposal_id": proposal_id, "value": 1},
                      headers=JA)
    alerts = re.findall(r'class="flash flash-error"[^>]*>([^<]*)<', flashed.get_data(as_text=True))
    return [
        (htmx.status_code, htmx.headers.get("X-Hiroba-Error"),
         re.findall(r'role="alert">([^<]*)<', htmx.get_data(as_text=True))),
        (plain.status_code, plain.headers["Location"].split("#")[0], alerts),
        (api.status_code, api.get_json()["error"]),
    ]


def test_a_vote_on_an_unpublished_proposal_is_answered_as_one_on_no_proposal(
        app: Flask, ids: dict[str, int]) -> None:
    client = client_for(app, quick_user())
    before = table_counts()
    answers = {name: _answers(client, proposal_id) for name, proposal_id in ids.items()}
    reference = answers.pop("no proposal")
    assert reference[0][0] == 200 and reference[0][1] == "not_found"
    assert reference[2][0] == 404
    assert "公開されている提案はありません" in reference[2][1]["message"]
    assert reference[1][2] == reference[0][2] == [reference[2][1]["message"]]
    for name, answer in answers.items():
        assert answer == reference, name
    assert table_counts() == before


@pytest.mark.parametrize("who", ["anonymous", "citizen"])
def test_pages_of_unpublished_proposals_are_those_of_no_proposal(
        app: Flask, ids: dict[str, int], who: str) -> None:
    client = client_for(app, None if who == "anonymous" else quick_user())
    for path in ("/rounds/town/proposals/{}", "/rounds/town/proposals/{}/report"):
        reference = _seen(client, path, ids["no proposal"])
        assert reference[0] in (303, 404)
        for name in ("pending", "rejected", "of another round"):
            assert _seen(client, path, ids[name]) == reference, (path, name)


def _seen(client, path: str, proposal_id: int) -> tuple:
    """Status, redirect and page, with the id itself (in links back to the page) and the
    CSRF token (it carries the time) blanked."""
    response = client.get(path.format(proposal_id), headers=JA)

    def blank(text: str | None) -> str | None:
        if text is None:
            return None
        return CSRF.sub("TOKEN", text.replace(f"proposals/{proposal_id}", "proposals/ID"))

    return (response.status_code, blank(response.headers.get("Location")),
            blank(response.get_data(as_text=True)))


def test_writing_the_text_of_a_pending_proposal_does_not_give_its_id(
        app: Flask, ids: dict[str, int]) -> None:
    """The same text is refused as a duplicate, but only a published proposal is linked:
    whoever guessed the words of one waiting for review learnt its number (and so when it
    was written) from the link to it."""
    from deliberation.database import db
    from deliberation.models import Round

    db.session.execute(sa.update(Round).where(Round.slug == "town").values(phase="collecting"))
    db.session.commit()
    client = client_for(app, quick_user())
    response = client.post("/rounds/town/propose", data={"text": "pending proposal"},
                           headers=JA)
    assert response.status_code == 409
    assert f"proposals/{ids['pending']}" not in response.text
    response = client.post("/rounds/town/propose",
                           data={"text": "Published: benches by the river"}, headers=JA)
    assert response.status_code == 409 and "既存の提案" in response.text
