"""The Pol.is upload form: zip or individual files; bad uploads import nothing."""

from __future__ import annotations

import io
import zipfile

import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from deliberation.models import Proposal, Round, Vote
from tests.conftest import polis_dataset
from tests.facilitate.conftest import EN


def _zip(files: dict[str, bytes], folder: str = "export/") -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in files.items():
            zf.writestr(folder + name, data)
        zf.writestr("../evil.csv", b"x")
    buffer.seek(0)
    return buffer


def test_upload_zip(client, facilitator, db) -> None:
    d = polis_dataset("15-per-hour-seattle")
    files = {p.name: p.read_bytes() for p in d.iterdir()}
    response = client.post("/facilitate/import", content_type="multipart/form-data", data={
        "slug": "seattle", "phase": "reflection", "title": "",
        "archive": (_zip(files), "seattle.zip")})
    assert response.status_code == 303, response.get_data(as_text=True)
    round_ = db.session.scalar(sa.select(Round).where(Round.slug == "seattle"))
    assert round_.phase == "reflection" and round_.title == "$15/hour"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 2872


def test_upload_individual_files(client, facilitator, db) -> None:
    d = polis_dataset("15-per-hour-seattle")
    response = client.post("/facilitate/import", content_type="multipart/form-data", data={
        "slug": "s2", "phase": "voting", "title": "Mine",
        "comments": (io.BytesIO((d / "comments.csv").read_bytes()), "comments.csv"),
        "votes": (io.BytesIO((d / "votes.csv").read_bytes()), "votes.csv")})
    assert response.status_code == 303
    assert db.session.scalar(sa.select(Round.title)) == "Mine"


def test_bad_uploads_show_error_and_import_nothing(client, facilitator, db) -> None:
    d = polis_dataset("15-per-hour-seattle")
    cases = [
        ({"archive": (io.BytesIO(b"not a zip"), "x.zip")}, "not a zip file"),
        ({"comments": (io.BytesIO((d / "comments.csv").read_bytes()), "comments.csv")},
         "votes.csv: The file is missing."),
        ({"comments": (io.BytesIO((d / "comments.csv").read_bytes()), "comments.csv"),
          "votes": (io.BytesIO(b"timestamp,datetime,comment-id,voter-id,vote\n1,x,0,1,2\n"),
                    "votes.csv")},
         'votes.csv, line 2, column “vote”: “2” is not -1, 0 or 1.'),
    ]
    for files, message in cases:
        response = client.post("/facilitate/import", content_type="multipart/form-data",
                               headers=EN, data={"slug": "bad", "phase": "voting", **files})
        assert response.status_code == 400
        assert message in response.get_data(as_text=True), message
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Round)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 0


def test_an_uploaded_export_escalates_nothing_until_the_preview_is_confirmed(
        client, facilitator, db) -> None:
    """Uploading a Pol.is export puts nothing on the council's agenda; the round's page
    previews what would go; a statement marked meta in the queue never goes; arming
    escalates the rest."""
    from deliberation.engine import escalation
    from deliberation.jobs.runner import refresh_and_escalate
    from deliberation.models import Escalation

    d = polis_dataset("vtaiwan.uberx")
    files = {p.name: p.read_bytes() for p in d.iterdir()}
    # encoded in memory: the test client spools a large upload to a file it never closes
    boundary, body = encode_multipart({
        "slug": "uberx", "phase": "voting", "title": "",
        "archive": FileStorage(_zip(files), filename="uberx.zip")})
    response = client.post("/facilitate/import", data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    round_ = db.session.scalar(sa.select(Round).where(Round.slug == "uberx"))
    assert round_.escalation_armed is False
    snapshot = refresh_and_escalate(round_.id)
    on_agenda = sa.select(Escalation.proposal_id).where(Escalation.round_id == round_.id)
    assert set(db.session.scalars(on_agenda)) == set()

    ids = list(db.session.scalars(sa.select(Proposal.id).where(
        Proposal.round_id == round_.id, Proposal.status == "published",
        Proposal.is_meta.is_(False))))
    passing = sorted(pid for pid, d in escalation.snapshot_decisions(
        snapshot, round_.policy, ids).items() if d.escalate)
    assert len(passing) >= 2  # the real round has cross-group consensus to preview
    for language in ("ja", "en"):
        page = client.get(f"/facilitate/rounds/{round_.slug}",
                          headers={"Accept-Language": language})
        assert page.status_code == 200
        assert db.session.get(Proposal, passing[0]).text[:20] in page.get_data(as_text=True)

    meta = passing[0]
    assert client.post(f"/facilitate/rounds/{round_.slug}/moderation", data={
        "proposal_id": str(meta), "action": "meta"}).status_code == 303
    assert client.post(f"/facilitate/rounds/{round_.slug}/escalation", data={
        "action": "arm", "reason": "checked"}).status_code == 303
    agenda = set(db.session.scalars(on_agenda))
    assert agenda and meta not in agenda and agenda <= set(passing[1:])
