"""No export lets a spreadsheet run a formula planted in a text field."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest

from deliberation import csvfile
from deliberation.database import db
from tests import factories
from tests.exports.conftest import PAYLOADS

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
NUMBER = re.compile(r"-?\d+(\.\d+)?")


def cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
            for cell in row]


def assert_safe(text: str) -> list[str]:
    """Every cell either is a number or does not start like a formula."""
    found = cells(text)
    unsafe = [c for c in found if c.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(c)]
    assert unsafe == []
    return found


def test_neutralise_quotes_formulas_and_keeps_numbers():
    assert csvfile.neutralise("=1+1") == "'=1+1"
    assert csvfile.neutralise("\tx") == "'\tx"
    assert csvfile.neutralise("'=x") == "''=x"
    # OWASP's CSV injection page: a line feed starts a formula too, and so do the
    # full-width signs typed on a Japanese keyboard in Japanese Excel
    for start in ("\n", "＝", "＋", "－", "＠"):
        assert csvfile.neutralise(start + "1+1") == "'" + start + "1+1"
    assert csvfile.neutralise("ー長音で始まる") == "ー長音で始まる"
    assert csvfile.neutralise("it's") == "it's"
    assert csvfile.neutralise(-1) == -1 and csvfile.neutralise(-0.5) == -0.5
    assert csvfile.neutralise(True) == 1 and csvfile.neutralise(None) == ""
    for text in [*PAYLOADS, "'=x", "''-y", "'", "plain", "", "'plain", "'＝x", "\nx"]:
        assert csvfile.restore(csvfile.neutralise(text)) == text


def test_a_carriage_return_inside_a_cell_keeps_its_row_whole():
    for terminator in ("\n", "\r\n"):
        text = csvfile.write([["a\rb", 1], ["c\nd", -1]], header=["text", "n"],
                             lineterminator=terminator)
        rows = list(csv.reader(io.StringIO(text, newline="")))
        assert rows == [["text", "n"], ["a\rb", "1"], ["c\nd", "-1"]]


def _csv_download(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.data.startswith("\ufeff".encode())  # for Excel
    return response.data.decode("utf-8")


@pytest.mark.parametrize("url", [
    "/agenda/council/export.csv", "/agenda/council/export.csv?round=poisoned"])
def test_council_export(client, poisoned, url):
    factories.log_in(client, poisoned.staff)
    found = assert_safe(_csv_download(client, url))
    assert "'" + PAYLOADS[0] in found and "'+1 1" in found and "'-x 2" in found


@pytest.mark.parametrize("url", [
    "/facilitate/audit?format=csv", "/facilitate/rounds/poisoned/audit?format=csv"])
def test_audit_export(client, poisoned, url):
    factories.log_in(client, poisoned.staff)
    found = assert_safe(_csv_download(client, url))
    # report reasons, the rejection and the closing reason reached the file, quoted; the
    # log stores notes without leading tabs and carriage returns (see test_neutralise_...)
    for reason in ("'+1", "'-x", "'@x", "'=1+1"):
        assert reason in found


@pytest.mark.parametrize("url", [
    "/facilitate/dashboard?format=csv", "/facilitate/rounds/poisoned/dashboard?format=csv"])
def test_dashboard_export(client, poisoned, url):
    factories.log_in(client, poisoned.staff)
    found = assert_safe(_csv_download(client, url))
    assert "投票" in found


def test_open_data_files(client, poisoned):
    poisoned.round.phase = "reflection"  # published once voting has ended
    db.session.commit()
    response = client.get("/agenda/rounds/poisoned/open-data.zip")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        files = {name: archive.read(name).decode("utf-8") for name in archive.namelist()}
    everything = []
    for name in ("summary.csv", "comments.csv", "votes.csv", "participants-votes.csv"):
        assert not files[name].startswith("\ufeff")  # the Pol.is format, not for Excel
        everything += assert_safe(files[name])
    assert "'" + PAYLOADS[0] in everything  # the topic and the first comment
    assert "'+1 1" in everything and "'-description" in everything
    assert "-1" in cells(files["votes.csv"])  # disagree stays a number


def test_cli_exports(runner, poisoned, tmp_path):
    result = runner.invoke(args=["agenda", "export", "--format", "csv"])
    assert result.exit_code == 0
    assert "'" + PAYLOADS[0] in assert_safe(result.output)
    result = runner.invoke(args=["agenda", "open-data", "poisoned", "--output",
                                 str(tmp_path / "od")])
    assert result.exit_code == 0
    for name in ("summary.csv", "comments.csv", "votes.csv", "participants-votes.csv"):
        assert_safe((tmp_path / "od" / name).read_text(encoding="utf-8"))


def test_open_data_round_trips_through_our_importer(poisoned, tmp_path):
    import sqlalchemy as sa

    from deliberation.database import db
    from deliberation.interop import polis_export, polis_import
    from deliberation.models import Proposal

    polis_export.write_directory(poisoned.round.id, tmp_path / "od")
    copy = polis_import.import_directory(tmp_path / "od", slug="copy")
    texts = set(db.session.scalars(sa.select(Proposal.text).where(
        Proposal.round_id == copy.id, Proposal.status == "published")))
    assert PAYLOADS[0] in texts and "+1 1" in texts and "-x 2" in texts and "@x 3" in texts
    assert copy.title == PAYLOADS[0]


def test_an_unknown_round_is_a_translated_404(client, poisoned):
    factories.log_in(client, poisoned.staff)
    for url in ("/agenda/council/export.csv?round=nope", "/agenda/council/export.xlsx",
                "/agenda/rounds/nope/open-data.zip"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "見つかりません" in response.get_data(as_text=True), url
