"""Open data: Pol.is-format export, anonymised, re-importable."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
import sqlalchemy as sa

from clustering import VoteData, read_export
from clustering.matrix import build_matrix
from deliberation.database import db
from deliberation.interop import polis_export, polis_import
from deliberation.jobs.runner import refresh_and_escalate
from deliberation.models import Participant, Proposal, Vote, VoteEvent
from tests import factories
from tests.conftest import polis_dataset


def _add_assisted(planted, n=5):
    for sheet in range(n):
        person = factories.make_participant(planted.round, source="assisted",
                                            label=f"workshop sheet {sheet + 1}")
        prop = planted.consensus[0]
        db.session.add(Vote(round_id=planted.round.id, participant_id=person.id,
                            proposal_id=prop, value=1))
        db.session.add(VoteEvent(round_id=planted.round.id, participant_id=person.id,
                                 proposal_id=prop, value=1, source="assisted"))
    db.session.commit()


def test_export_files_are_anonymised_and_flag_assisted(planted):
    _add_assisted(planted)
    snap = refresh_and_escalate(planted.round.id)
    files = polis_export.build_files(planted.round.id)
    assert set(files) == {"summary.csv", "comments.csv", "votes.csv",
                          "participants-votes.csv", "README.txt"}
    # the town's residents read it first: Japanese, then English for Pol.is users elsewhere
    assert files["README.txt"].startswith("Hiroba（ひろば）のラウンドのオープンデータ")
    assert "Pol.is-format export of a Hiroba round" in files["README.txt"]
    # why the first votes on a proposal share a date: its author's is among them
    assert "その票が最初の票だとわからないように" in files["README.txt"]
    assert "so that this vote cannot be told as the first one" in files["README.txt"]
    votes = list(csv.DictReader(io.StringIO(files["votes.csv"])))
    assert list(votes[0])[:5] == ["timestamp", "datetime", "comment-id", "voter-id", "vote"]
    assisted = [v for v in votes if v["is-assisted"] == "1"]
    assert len(assisted) == 5
    real_ids = set(db.session.scalars(sa.select(Participant.id)))
    voter_ids = {int(v["voter-id"]) for v in votes}
    assert voter_ids == set(range(len(voter_ids)))  # 0..n-1, a fresh permutation
    again = list(csv.DictReader(io.StringIO(polis_export.build_files(planted.round.id)
                                            ["votes.csv"])))
    assert [v["voter-id"] for v in again] != [v["voter-id"] for v in votes] or not real_ids
    comments = list(csv.DictReader(io.StringIO(files["comments.csv"])))
    assert len(comments) == 14
    rejected = [c for c in comments if c["moderated"] == "-1"]
    assert len(rejected) == 1 and rejected[0]["comment-body"] == polis_export.REMOVED_TEXT
    assert [c["is-meta"] for c in comments].count("1") == 1
    pv = list(csv.DictReader(io.StringIO(files["participants-votes.csv"])))
    assert len(pv) == 80
    groups = {r["group-id"] for r in pv}
    assert {"0", "1"} <= groups and len(groups - {"0", "1"}) <= 1
    summary = dict(csv.reader(io.StringIO(files["summary.csv"])))
    assert summary["groups"] == str(snap.k) and summary["assisted-voters"] == "5"
    # nobody counted who opened the round: not the number of participants under Pol.is's name
    assert "views" not in summary and "views" in files["README.txt"]


def test_fewer_than_five_paper_voters_are_not_flagged(planted):
    _add_assisted(planted, n=4)
    files = polis_export.build_files(planted.round.id)
    votes = list(csv.DictReader(io.StringIO(files["votes.csv"])))
    assert {v["is-assisted"] for v in votes} == {""}
    assert dict(csv.reader(io.StringIO(files["summary.csv"])))["assisted-voters"] == ""


def test_round_trip_through_the_polis_importer(planted, tmp_path):
    refresh_and_escalate(planted.round.id)
    polis_export.write_directory(planted.round.id, tmp_path / "export")
    copy = polis_import.import_directory(tmp_path / "export", slug="reimported")
    def counts(round_id):
        rows = db.session.execute(
            sa.select(Proposal.external_id, Vote.value, sa.func.count())
            .join(Vote, Vote.proposal_id == Proposal.id)
            .where(Proposal.round_id == round_id)
            .group_by(Proposal.external_id, Vote.value)).all()
        return sorted((str(a), b, c) for a, b, c in rows)

    assert counts(copy.id) == counts(planted.round.id)
    statuses = dict(db.session.execute(sa.select(Proposal.external_id, Proposal.status)
                                       .where(Proposal.round_id == copy.id)).tuples().all())
    assert statuses["13"] == "rejected" and statuses["0"] == "published"
    meta = db.session.scalar(sa.select(Proposal).where(Proposal.round_id == copy.id,
                                                       Proposal.external_id == "12"))
    assert meta.is_meta
    # the clustering library reads it too, with the group ids of the export
    from clustering import read_export

    export = read_export(tmp_path / "export")
    assert export.group_ids is not None and len(export.group_ids) == 75


def test_open_data_download_only_when_enabled(planted, client):
    refresh_and_escalate(planted.round.id)
    url = f"/agenda/rounds/{planted.round.slug}/open-data.zip"
    assert client.get(url).status_code == 404
    planted.round.open_data_enabled = True
    db.session.commit()
    assert client.get(url).status_code == 404  # not while the round takes votes
    planted.round.phase = "closed"
    db.session.commit()
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert "participants-votes.csv" in names and "votes.csv" in names
    assert client.get("/agenda/rounds/nope/open-data.zip").status_code == 404


def test_open_data_cli(planted, runner, tmp_path):
    result = runner.invoke(args=["agenda", "open-data", planted.round.slug,
                                 "--output", str(tmp_path / "od.zip")])
    assert result.exit_code == 0, result.output
    assert "votes.csv" in zipfile.ZipFile(tmp_path / "od.zip").namelist()
    result = runner.invoke(args=["agenda", "open-data", planted.round.slug,
                                 "--output", str(tmp_path / "dir")])
    assert result.exit_code == 0 and (tmp_path / "dir" / "comments.csv").is_file()
    result = runner.invoke(args=["agenda", "open-data", "nope", "--output", str(tmp_path)])
    assert result.exit_code != 0 and "There is no round" in result.output


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("name", ["bg2050-volunteers", "vtaiwan.uberx"])
@pytest.mark.slow  # imports, exports and imports again a real Pol.is conversation
def test_a_real_conversation_round_trips(db, name, tmp_path):
    """What must survive import, open data and import again: every published and rejected
    statement with its id, moderation and text, the agree and disagree counts, and the whole
    description, not only its first line."""
    source = polis_dataset(name)
    round_ = polis_import.import_directory(source, slug="original")
    polis_export.write_directory(round_.id, tmp_path / "open-data")
    files = {f: (tmp_path / "open-data" / f).read_text(encoding="utf-8")
             for f in ("comments.csv", "votes.csv", "summary.csv")}
    original = {c["comment-id"]: c for c in _rows((source / "comments.csv")
                                                  .read_text(encoding="utf-8"))}
    exported = {c["comment-id"]: c for c in _rows(files["comments.csv"])}
    shown = {cid for cid, c in original.items() if c["moderated"] != "0"}
    assert set(exported) == shown
    for cid in shown:
        assert exported[cid]["moderated"] == original[cid]["moderated"]
        if original[cid]["moderated"] == "1":
            assert exported[cid]["comment-body"] == original[cid]["comment-body"].strip()

    latest: dict[tuple[str, str], tuple[int, int, int]] = {}
    for row, vote in enumerate(_rows((source / "votes.csv").read_text(encoding="utf-8"))):
        key = (vote["voter-id"], vote["comment-id"])
        when = (int(vote["timestamp"]), row, int(vote["vote"]))
        latest[key] = max(latest.get(key, when), when)
    standing: dict[str, list[int]] = {cid: [] for cid in shown}
    for (_voter, cid), (_, _, value) in latest.items():
        if cid in standing:
            standing[cid].append(value)
    for cid, values in standing.items():
        assert (int(exported[cid]["agrees"]), int(exported[cid]["disagrees"])) == (
            values.count(1), values.count(-1)), cid

    description = dict(csv.reader(io.StringIO(files["summary.csv"])))[
        "conversation-description"]
    described = dict(csv.reader(io.StringIO((source / "summary.csv").read_text(
        encoding="utf-8"))))["conversation-description"]
    assert description == round_.description
    assert description.startswith(described.strip()) and "\n\n" in described.strip()
    again = polis_import.import_directory(tmp_path / "open-data", slug="again")
    assert (again.description, again.summary) == (round_.description, round_.summary)

    # As many people as voted, on both sides: Pol.is's authors are voters, and open data's
    # author-ids (one per statement, never a voter) are nobody, so a re-imported round does
    # not count a person per statement (bg2050: 493 for its 122 voters).
    def people(r):
        return db.session.scalar(sa.select(sa.func.count()).select_from(Participant)
                                 .where(Participant.round_id == r.id))
    summary = dict(csv.reader(io.StringIO((source / "summary.csv").read_text(encoding="utf-8"))))
    assert people(round_) == int(summary["voters"])
    assert people(again) == len({v["voter-id"] for v in _rows(files["votes.csv"])})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Proposal).where(
        Proposal.round_id == again.id, Proposal.author_id.is_not(None))) == 0

    # python -m clustering reads the same standing votes from the files as the import
    # stores: open data cuts times to the day, so a vote changed on the day it was cast
    # (vTaiwan has six, bg2050 one) is told from the earlier one by its row alone.
    imported = {(voter, proposal): value for voter, proposal, value in db.session.execute(
        sa.select(Participant.external_id, Proposal.external_id, Vote.value)
        .join(Participant, Participant.id == Vote.participant_id)
        .join(Proposal, Proposal.id == Vote.proposal_id).where(Vote.round_id == again.id))}
    matrix = build_matrix(VoteData.from_export(read_export(tmp_path / "open-data")))
    read = {(str(matrix.participant_ids[r]), str(matrix.statement_ids[c])): int(v)
            for r, c, v in zip(matrix.rows, matrix.cols, matrix.vals, strict=True)}
    assert read == imported


def test_the_readme_names_the_rounds_own_small_count_minimum(db):
    """A round that shows no group under 10 people leaves those groups' ids and its paper
    voters under 10 out of the files; the README says 10, not the general 5."""
    strict = factories.make_round(slug="village-data", phase="voting", min_group_display=10)
    usual = factories.make_round(slug="town-data", phase="voting")
    readme = polis_export.build_files(strict.id)["README.txt"]
    assert "10人未満のグループ" in readme and "紙で投票した人が10人未満のとき" in readme
    assert "a group of fewer than 10 people" in readme
    assert "When fewer than 10 people voted on paper" in readme
    assert "5人未満のグループ" in polis_export.build_files(usual.id)["README.txt"]
