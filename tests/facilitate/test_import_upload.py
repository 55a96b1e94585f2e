"""The Pol.is upload form: zip or individual files; bad uploads import nothing."""

from __future__ import annotations

import io
import zipfile

import sqlalchemy as sa

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
