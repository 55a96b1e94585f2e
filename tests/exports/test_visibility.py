"""A proposal rejected or hidden after it reached the agenda shows a moderation notice,
not its text, on every public page, fragment, API response and export; staff keep the
text behind a marker."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest

from deliberation.engine import escalation
from deliberation.interop import polis_export
from deliberation.services import moderation
from tests import factories

TEXT = "Free buses for school children"


@pytest.fixture(params=["rejected", "hidden"])
def moderated(request, db):
    staff = factories.make_user("admin")
    round_ = factories.make_round(slug="buses", phase="voting", open_data_enabled=True)
    proposal = factories.make_proposal(round_, TEXT)
    esc = escalation.escalate_manually(proposal.id, actor=staff, reason="Many asked for it")
    if request.param == "rejected":
        moderation.moderate(round_, [proposal.id], "reject", actor=staff, reason="Duplicate")
    else:
        proposal.status = "hidden"  # what enough reports do
    round_.phase = "reflection"  # voting has ended: the open data is published
    db.session.commit()
    return request.param, esc, staff


def test_public_pages_show_the_notice_instead_of_the_text(client, moderated):
    state, esc, _staff = moderated
    notice = {"rejected": "モデレーションにより却下", "hidden": "通報を確認"}[state]
    for url, headers in (("/rounds/buses", {}), ("/agenda/", {}),
                         ("/agenda/", {"HX-Request": "true"}),
                         (f"/agenda/items/{esc.id}", {})):
        response = client.get(url, headers=headers)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, url
        assert TEXT not in page, url
        assert notice in page, url


def test_api_and_open_data_withhold_the_text(client, moderated):
    state, _esc, _staff = moderated
    body = client.get("/api/v1/rounds/buses/agenda").get_json()
    assert body["agenda"][0]["proposal_text"] is None
    assert body["agenda"][0]["proposal_withheld"] == state
    archive = zipfile.ZipFile(io.BytesIO(client.get("/agenda/rounds/buses/open-data.zip").data))
    comments = list(csv.DictReader(io.StringIO(archive.read("comments.csv").decode())))
    assert [c["comment-body"] for c in comments] == [polis_export.REMOVED_TEXT]


def test_council_pages_keep_the_text_behind_a_marker(client, moderated):
    _state, esc, staff = moderated
    factories.log_in(client, staff)
    for url in ("/agenda/council/", f"/agenda/council/items/{esc.id}",
                f"/agenda/council/items/{esc.id}/dossier"):
        page = client.get(url).get_data(as_text=True)
        assert TEXT in page and "非公開" in page, url
    item = client.get("/agenda/council/export.json").get_json()["items"][0]
    assert item["text"] == TEXT and item["text_withheld"] == _state


def test_a_published_proposal_is_shown_as_it_is(client, db):
    staff = factories.make_user("admin")
    round_ = factories.make_round(slug="open", phase="voting")
    proposal = factories.make_proposal(round_, TEXT)
    esc = escalation.escalate_manually(proposal.id, actor=staff, reason="Many asked for it")
    page = client.get(f"/agenda/items/{esc.id}").get_data(as_text=True)
    assert TEXT in page and "非公開" not in page
    body = client.get("/api/v1/rounds/open/agenda").get_json()
    assert body["agenda"][0]["proposal_text"] == TEXT
    assert body["agenda"][0]["proposal_withheld"] is None
