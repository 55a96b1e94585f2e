"""The Pol.is upload: stored and queued by the request, imported by the background worker,
progress and errors on a page that htmx polls; bad uploads and failed imports leave
nothing behind."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from deliberation.jobs import polis_imports
from deliberation.models import (
    AuditEntry,
    ImportJob,
    Participant,
    Proposal,
    Round,
    Vote,
    VoteEvent,
    utcnow,
)
from tests.conftest import polis_dataset
from tests.facilitate.conftest import EN
from tests.races import committed_first

JA = {"Accept-Language": "ja"}
HTMX = {"HX-Request": "true", **EN}


@pytest.fixture()
def folder(app, tmp_path: Path) -> Path:
    app.config["IMPORT_FOLDER"] = str(tmp_path / "imports")
    return tmp_path / "imports"


def _zip(files: dict[str, bytes], folder: str = "export/") -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in files.items():
            zf.writestr(folder + name, data)
        zf.writestr("../evil.csv", b"x")
    buffer.seek(0)
    return buffer


def _seattle() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in polis_dataset("15-per-hour-seattle").iterdir()}


def _upload(client, slug: str = "seattle", headers: dict[str, str] | None = None, **files):
    return client.post("/facilitate/import", content_type="multipart/form-data",
                       headers=headers or EN,
                       data={"slug": slug, "phase": "reflection", "title": "", **files})


def _count(db, model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _assert_nothing_imported(db) -> None:
    db.session.rollback()
    for model in (Round, Participant, Proposal, Vote, VoteEvent, AuditEntry):
        assert _count(db, model) == 0, model


def test_upload_is_imported_in_the_background(client, facilitator, db, folder) -> None:
    votes_csv_rows = _seattle()["votes.csv"].strip().count(b"\n")
    response = _upload(client, archive=(_zip(_seattle()), "seattle.zip"))
    assert response.status_code == 303
    status_url = response.headers["Location"]
    assert re.fullmatch(r"/facilitate/imports/\d+", status_url)
    assert _count(db, Round) == 0  # the request only stored the upload

    page = client.get(status_url, headers=EN).get_data(as_text=True)
    assert "Waiting for the background worker" in page
    assert 'hx-trigger="every 1s"' in page  # htmx polls ...
    assert '<noscript><meta http-equiv="refresh"' in page  # ... and without JavaScript
    assert f'href="{status_url}"' in page  # a refresh link as well
    fragment = client.get(status_url, headers=HTMX)
    assert "<html" not in fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers["Vary"]

    job_id = polis_imports.run_once(folder)
    assert f"/facilitate/imports/{job_id}" == status_url

    round_ = db.session.scalar(sa.select(Round).where(Round.slug == "seattle"))
    assert round_.phase == "reflection" and round_.title == "$15/hour"
    assert not round_.escalation_armed  # an import never escalates before a facilitator arms
    assert _count(db, Vote) == 2872
    page = client.get(status_url, headers=EN).get_data(as_text=True)
    assert "The Pol.is export was imported." in page
    assert "every 1s" not in page and "http-equiv" not in page  # finished: no more polling
    assert f'href="/facilitate/rounds/{round_.slug}"' in page
    job = db.session.get(ImportJob, job_id)
    assert job.stage == "done" and job.rows_read == votes_csv_rows
    assert job.rows_written == job.rows_total > 2872  # events and votes
    assert not any(folder.iterdir())  # the uploaded files are deleted
    assert polis_imports.run_once(folder) is None  # nothing left in the queue


@pytest.mark.slow  # imports 30,000 real votes
def test_a_zip_with_the_math_output_marks_its_meta_statements(client, facilitator, db,
                                                              folder) -> None:
    """The biodiversity HiveMind as Pol.is's data repository ships it: CSV files without an
    is-meta column, beside math-pca2.json, whose meta-tids are the questions about the
    participant."""
    path = polis_dataset("scoop-hivemind.biodiversity")
    # encoded in memory: the test client spools a large upload to a file it never closes
    boundary, body = encode_multipart({
        "slug": "biodiversity", "phase": "voting", "title": "",
        "archive": FileStorage(_zip({p.name: p.read_bytes() for p in path.iterdir()}),
                               filename="biodiversity.zip")})
    response = client.post("/facilitate/import", data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 303
    polis_imports.run_once(folder)
    meta = db.session.scalars(sa.select(Proposal.text).where(Proposal.is_meta)).all()
    assert len(meta) == 15 and "I am under 30 years of age" in meta


@pytest.mark.slow  # imports 30,000 real votes
def test_the_math_output_uploaded_as_a_file_marks_the_meta_statements(client, facilitator, db,
                                                                      folder) -> None:
    """The biodiversity HiveMind's files chosen one by one: without a field for
    math-pca2.json, its 15 questions about the participant ("I am under 30 years of age")
    became proposals that could reach the council."""
    path = polis_dataset("scoop-hivemind.biodiversity")
    fields = {"comments": "comments.csv", "votes": "votes.csv", "summary": "summary.csv",
              "participants_votes": "participants-votes.csv", "math_pca2": "math-pca2.json"}
    boundary, body = encode_multipart({
        "slug": "biodiversity", "phase": "voting", "title": "",
        **{field: FileStorage(io.BytesIO((path / name).read_bytes()), filename=name)
           for field, name in fields.items()}})
    response = client.post("/facilitate/import", data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 303
    polis_imports.run_once(folder)
    meta = db.session.scalars(sa.select(Proposal.text).where(Proposal.is_meta)).all()
    assert len(meta) == 15 and "I am under 30 years of age" in meta


def test_upload_individual_files(client, facilitator, db, folder) -> None:
    files = _seattle()
    response = client.post("/facilitate/import", content_type="multipart/form-data", data={
        "slug": "s2", "phase": "voting", "title": "Mine",
        "comments": (io.BytesIO(files["comments.csv"]), "comments.csv"),
        "votes": (io.BytesIO(files["votes.csv"]), "votes.csv")})
    assert response.status_code == 303
    polis_imports.run_once(folder)
    assert db.session.scalar(sa.select(Round.title)) == "Mine"


def test_bad_uploads_are_refused_at_once_and_store_nothing(client, facilitator, db,
                                                           folder) -> None:
    files = _seattle()
    comments = ("comments", (io.BytesIO(files["comments.csv"]), "comments.csv"))
    cases = [
        ({"archive": (io.BytesIO(b"not a zip"), "x.zip")}, "not a zip file"),
        (dict([comments]), "votes.csv: The file is missing."),
        ({"archive": (_zip({"comments.csv": files["comments.csv"]}), "x.zip")},
         "votes.csv: The file is missing."),
        ({"votes": (io.BytesIO(files["votes.csv"]), "votes.csv")},
         "comments.csv: The file is missing."),
    ]
    for data, message in cases:
        response = _upload(client, slug="bad", **data)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True), message
        # no field is at fault: the message takes the focus, or a screen reader stays at
        # the top of a page that looks as before
        assert re.search(r'<p class="error-box" role="alert" tabindex="-1" autofocus>',
                         response.get_data(as_text=True)), message
    response = _upload(client, slug="Not A Slug", archive=(_zip(files), "x.zip"))
    assert response.status_code == 400
    assert _count(db, ImportJob) == 0
    assert not folder.exists() or not any(folder.iterdir())
    _assert_nothing_imported(db)


def _zip_flagged(*, encrypted: bool = False, method: int | None = None) -> io.BytesIO:
    """The Seattle export zipped, then marked as encrypted or as compressed with a method
    Python cannot unpack (as a zip made by an archiver with a password, or with PPMd)."""
    data = bytearray(_zip(_seattle()).getvalue())
    for signature, flags in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        while at >= 0:
            if encrypted:
                data[at + flags] |= 1
            if method is not None:
                data[at + flags + 2:at + flags + 4] = method.to_bytes(2, "little")
            at = data.find(signature, at + 1)
    return io.BytesIO(bytes(data))


def _zip_damaged() -> io.BytesIO:
    """The Seattle export zipped, with bytes of its first compressed member overwritten."""
    data = bytearray(_zip(_seattle()).getvalue())
    data[60:68] = b"\xff" * 8
    return io.BytesIO(bytes(data))


@pytest.mark.parametrize("archive", [
    pytest.param(_zip_damaged, id="damaged"),
    pytest.param(lambda: _zip_flagged(encrypted=True), id="password"),
    pytest.param(lambda: _zip_flagged(method=98), id="ppmd"),
])
def test_a_zip_that_cannot_be_unpacked_is_refused_in_japanese(client, facilitator, db,
                                                              folder, archive) -> None:
    response = _upload(client, headers=JA, archive=(archive(), "x.zip"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "このzipファイルは開けません" in page
    assert "encrypted" not in page and "compression" not in page
    assert _count(db, ImportJob) == 0
    assert not folder.exists() or not any(folder.iterdir())
    _assert_nothing_imported(db)


def _shift_jis(files: dict[str, bytes]) -> dict[str, bytes]:
    """The export as Excel in Japan saves a CSV by default: comments.csv in Shift_JIS, with
    a Japanese comment on its fourth line."""
    text = files["comments.csv"].decode("utf-8").splitlines(keepends=True)
    text.insert(3, "1403057082753,x,999,4,1,0,1,最低賃金を上げる\n")
    return {**files, "comments.csv": "".join(text).encode("shift_jis")}


@pytest.mark.parametrize("send", [
    pytest.param(lambda files: {"archive": (_zip(files), "x.zip")}, id="zip"),
    pytest.param(lambda files: {
        name.removesuffix(".csv"): (io.BytesIO(files[name]), name)
        for name in ("comments.csv", "votes.csv")}, id="files"),
])
def test_a_file_not_in_utf8_is_refused_at_upload_in_japanese(client, facilitator, db, folder,
                                                            send) -> None:
    response = _upload(client, headers=JA, **send(_shift_jis(_seattle())))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "comments.csv の4行目：" in page
    assert "UTF-8" in page and "Shift_JIS" in page and "CSV UTF-8" in page
    assert _count(db, ImportJob) == 0
    assert not folder.exists() or not any(folder.iterdir())
    _assert_nothing_imported(db)


@pytest.mark.parametrize(("content", "problem"), [
    pytest.param("timestamp,comment-id,voter-id,vote\n".encode("utf-16"),
                 "votes.csv, line 1: The file is not UTF-8 text", id="utf-16"),
    pytest.param(b"timestamp,comment-id,voter-id,vote\n1,0,1\x00,1\n",
                 "votes.csv, line 2: The file is not a text file.", id="nul"),
])
def test_a_votes_file_that_is_not_text_is_refused_at_upload(client, facilitator, db, folder,
                                                           content, problem) -> None:
    files = {**_seattle(), "votes.csv": content}
    response = _upload(client, archive=(_zip(files), "x.zip"), headers=HTMX)
    assert response.status_code == 400
    assert problem in response.get_data(as_text=True)
    assert _count(db, ImportJob) == 0
    _assert_nothing_imported(db)


def test_address_taken_by_a_round_or_a_queued_import(client, facilitator, db, folder) -> None:
    assert _upload(client, archive=(_zip(_seattle()), "x.zip")).status_code == 303
    response = _upload(client, archive=(_zip(_seattle()), "x.zip"))
    assert response.status_code == 400
    assert "A round with this address already exists." in response.get_data(as_text=True)
    polis_imports.run_once(folder)
    assert _upload(client, archive=(_zip(_seattle()), "x.zip")).status_code == 400
    assert _count(db, ImportJob) == 1


def test_the_same_upload_sent_twice_at_once_queues_one_job(client, facilitator, db,
                                                          folder) -> None:
    """A double click: the other request passed the same "address free" check and queued
    its job while this one was between the check and its write."""
    other = sa.insert(ImportJob).values(slug="seattle", round_phase="reflection",
                                        stage="queued", created_at=utcnow())
    with committed_first(ImportJob, lambda: other) as raced:
        response = _upload(client, headers=JA, archive=(_zip(_seattle()), "x.zip"))
    assert raced
    assert response.status_code == 400
    assert "このアドレスのラウンドはすでにあります" in response.get_data(as_text=True)
    db.session.rollback()
    assert _count(db, ImportJob) == 1
    assert not folder.exists() or not any(folder.iterdir())


def test_file_errors_are_shown_translated_with_line_and_column(client, facilitator, db,
                                                               folder) -> None:
    files = _seattle()
    files["votes.csv"] = b"timestamp,datetime,comment-id,voter-id,vote\n1,x,0,1,2\n"
    response = _upload(client, archive=(_zip(files), "x.zip"))
    assert response.status_code == 303
    polis_imports.run_once(folder)
    status_url = response.headers["Location"]
    page = client.get(status_url, headers=EN).get_data(as_text=True)
    assert "The import failed; nothing was imported." in page
    assert "votes.csv, line 2, column “vote”: “2” is not -1, 0 or 1." in page
    assert "every 1s" not in page
    page = client.get(status_url, headers=JA).get_data(as_text=True)
    assert "votes.csv の2行目、「vote」列：" in page
    assert not any(folder.iterdir())
    _assert_nothing_imported(db)


def test_after_a_failed_import_only_the_files_need_choosing_again(client, facilitator, db,
                                                                  folder) -> None:
    files = _seattle()
    files["votes.csv"] = b"timestamp,datetime,comment-id,voter-id,vote\n1,x,0,1,2\n"
    response = client.post("/facilitate/import", content_type="multipart/form-data",
                           headers=EN, data={"slug": "town-2030", "phase": "closed",
                                             "title": "総合計画 & 2030",
                                             "archive": (_zip(files), "x.zip")})
    polis_imports.run_once(folder)
    page = client.get(response.headers["Location"], headers=JA).get_data(as_text=True)
    link = re.search(r'href="([^"]+)">修正したエクスポートをアップロードする', page)
    assert link, page
    form = client.get(link.group(1).replace("&amp;", "&"), headers=JA).get_data(as_text=True)
    assert re.search(r'<input[^>]*name="slug"[^>]*value="town-2030"', form)
    assert re.search(r'<input[^>]*name="title"[^>]*value="総合計画 &amp; 2030"', form)
    assert re.search(r'<option selected value="closed">|<option value="closed" selected>', form)
    # a hand-made address that is not a phase leaves the default
    form = client.get("/facilitate/import?phase=nonsense", headers=JA).get_data(as_text=True)
    assert re.search(r'<option selected value="voting">', form)


@pytest.mark.usefixtures("votes_table_refuses_inserts")
def test_import_failing_half_way_leaves_nothing_behind(client, facilitator, db,
                                                       folder) -> None:
    response = _upload(client, archive=(_zip(_seattle()), "x.zip"))
    job_id = polis_imports.run_once(folder)
    page = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "The import failed unexpectedly; nothing was imported." in page
    assert "disk full" not in page  # the database's words are for the logs
    assert db.session.get(ImportJob, job_id).stage == "failed"
    _assert_nothing_imported(db)


def test_a_worker_that_died_leaves_a_failed_job(client, facilitator, db, folder) -> None:
    response = _upload(client, archive=(_zip(_seattle()), "x.zip"))
    assert any(folder.iterdir())
    job = db.session.scalar(sa.select(ImportJob))
    job.stage, job.lease_until = "writing", utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert polis_imports.run_once(folder) is None
    page = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "The import was interrupted; nothing was imported." in page
    assert not any(folder.iterdir())
    # the slug is free again
    assert _upload(client, archive=(_zip(_seattle()), "x.zip")).status_code == 303


def test_files_a_finished_job_left_behind_are_deleted(client, facilitator, db, folder) -> None:
    """A migration that marks an older twin job failed cannot reach the folder, and a crash
    can come between a job's end and the deletion of its files: the worker deletes them."""
    _upload(client, slug="first", archive=(_zip(_seattle()), "x.zip"))
    _upload(client, slug="second", archive=(_zip(_seattle()), "x.zip"))
    first, second = db.session.scalars(sa.select(ImportJob).order_by(ImportJob.id)).all()
    first.stage = "failed"
    db.session.commit()
    not_a_job = folder / "99999999999999999999"
    not_a_job.mkdir()
    assert polis_imports.run_once(folder) == second.id
    assert sorted(path.name for path in folder.iterdir()) == [not_a_job.name]


def test_upload_needs_the_csrf_token(csrf_app, client, facilitator, db, folder) -> None:
    response = _upload(client, archive=(_zip(_seattle()), "x.zip"))
    assert response.status_code == 400
    assert _count(db, ImportJob) == 0


def test_unknown_job_is_404(client, facilitator, db) -> None:
    assert client.get("/facilitate/imports/999999").status_code == 404
    assert client.get("/facilitate/imports/99999999999999999999").status_code == 404


@pytest.mark.slow  # imports and clusters a real Pol.is round
def test_an_uploaded_export_escalates_nothing_until_the_preview_is_confirmed(
        client, facilitator, db, folder) -> None:
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
    polis_imports.run_once(folder)
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
        "action": "arm", "reason": "checked",
        "snapshot_id": str(snapshot.id)}).status_code == 303
    agenda = set(db.session.scalars(on_agenda))
    assert agenda and meta not in agenda and agenda <= set(passing[1:])
