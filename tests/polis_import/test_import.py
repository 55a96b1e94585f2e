"""Pol.is import: counts on real exports, semantics, and bad files that leave nothing behind."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from deliberation.errors import Conflict, DomainError
from deliberation.interop import polis_import
from deliberation.models import AuditEntry, Participant, Proposal, Round, Vote, VoteEvent
from deliberation.services import moderation
from deliberation.services.health import pending_since
from deliberation.services.proposals import published
from tests.conftest import polis_dataset
from tests.races import committed_first


def count(db, model, round_id=None):
    query = sa.select(sa.func.count()).select_from(model)
    if round_id is not None:
        query = query.where(model.round_id == round_id)
    return db.session.scalar(query)


@pytest.mark.slow  # imports 50,000 real votes
def test_vtaiwan_counts(db) -> None:
    round_ = polis_import.import_directory(polis_dataset("vtaiwan.uberx"), slug="vtaiwan")
    assert count(db, Vote, round_.id) == 49_443
    assert count(db, VoteEvent, round_.id) == 49_997
    voters = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(Vote.participant_id))).where(Vote.round_id == round_.id))
    assert voters == 1_921
    assert count(db, Proposal, round_.id) == 197
    # Pol.is never showed its 20 unmoderated comments (strict moderation: each has only its
    # author's vote); they wait for a facilitator instead of heading the vote queue
    statuses = dict(db.session.execute(
        sa.select(Proposal.status, sa.func.count()).where(Proposal.round_id == round_.id)
        .group_by(Proposal.status)).tuples().all())
    assert statuses == {"published": 99, "rejected": 78, "pending": 20}
    pending = db.session.scalars(sa.select(Proposal.id).where(
        Proposal.round_id == round_.id, Proposal.status == "pending")).all()
    assert set(db.session.scalars(sa.select(Proposal.external_id).where(
        Proposal.id.in_(pending)))) == {str(i) for i in range(177, 197)}
    assert {n for n, in db.session.execute(
        sa.select(sa.func.count()).select_from(Vote).where(Vote.proposal_id.in_(pending))
        .group_by(Vote.proposal_id))} == {1}
    assert round_.title.startswith("UberX")
    assert round_.description and round_.summary
    assert round_.source == "polis" and round_.phase == "voting"
    assert pending_since(round_.id) is not None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VoteEvent)
                             .where(VoteEvent.source != "import")) == 0
    assert db.session.scalar(sa.select(AuditEntry.action)) == "round.import_polis"


def test_semantics_on_small_export(db, tmp_path: Path) -> None:
    d = tmp_path / "x"
    d.mkdir()
    (d / "comments.csv").write_text(
        "timestamp,comment-id,author-id,agrees,disagrees,moderated,is-meta,is-seed,"
        "group-informed-consensus,comment-body\n"
        "1726860676783,2,7,1,0,1,false,true,0.5,Seed statement\n"
        "1726860676784,3,8,0,0,-1,false,false,,Rejected one\n"
        "1726860676785,4,8,0,0,0,true,false,,Meta one\n", encoding="utf-8")
    (d / "votes.csv").write_text(
        "timestamp,datetime,comment-id,voter-id,vote\n"
        "1726860680000,x,2,9,1\n"
        "1726860690000,x,2,9,-1\n"  # re-vote: latest wins
        "1726860685000,x,4,9,0\n"
        "1726860695000,x,3,8,1\n", encoding="utf-8")  # an author votes, as in Pol.is
    round_ = polis_import.import_directory(d, slug="small", phase="collecting", title="T")
    proposals = {p.external_id: p for p in db.session.scalars(sa.select(Proposal))}
    assert proposals["2"].is_seed and proposals["2"].status == "published"
    assert proposals["3"].status == "rejected"
    assert proposals["4"].is_meta and proposals["4"].status == "pending"  # unmoderated
    author = db.session.get(Participant, proposals["3"].author_id)
    assert author.external_id == "8" and author.source == "import"
    votes = db.session.scalars(sa.select(Vote).order_by(Vote.proposal_id)).all()
    assert [v.value for v in votes] == [-1, 1, 0]
    def at(ms: int) -> datetime:
        return datetime.fromtimestamp(ms / 1000, tz=UTC)

    assert (votes[0].created_at, votes[0].updated_at) == (at(1726860680000), at(1726860690000))
    assert votes[2].created_at == votes[2].updated_at == at(1726860685000)
    events = db.session.scalars(sa.select(VoteEvent).order_by(VoteEvent.created_at)).all()
    assert [(e.value, e.created_at) for e in events] == [
        (1, at(1726860680000)), (0, at(1726860685000)), (-1, at(1726860690000)),
        (1, at(1726860695000))]
    assert author.created_at == at(1726860676784)
    assert round_.opens_at == at(1726860676783)
    assert round_.title == "T" and round_.phase == "collecting"
    with pytest.raises(Conflict):
        polis_import.import_directory(d, slug="small")
    with pytest.raises(DomainError, match="only a-z"):
        polis_import.import_directory(d, slug="Bad Slug")


def test_export_without_votes(db, tmp_path: Path) -> None:
    """A conversation whose votes.csv has only its header: the statements, no votes, and
    no participants: an author-id that casts no vote is nobody (Pol.is records an author's
    own vote; Hiroba's open data gives each statement an id of its own)."""
    d = tmp_path / "x"
    d.mkdir()
    (d / "comments.csv").write_text(
        "timestamp,comment-id,author-id,agrees,disagrees,moderated,comment-body\n"
        "1000,5,1,0,0,1,Five\n1000,3,2,0,0,1,Three\n", encoding="utf-8")
    (d / "votes.csv").write_text("timestamp,datetime,comment-id,voter-id,vote\n",
                                 encoding="utf-8")
    round_ = polis_import.import_directory(d, slug="quiet")
    assert count(db, Proposal, round_.id) == 2
    assert count(db, Participant, round_.id) == 0
    assert count(db, Vote, round_.id) == count(db, VoteEvent, round_.id) == 0
    assert db.session.scalars(sa.select(Proposal.author_id).where(
        Proposal.round_id == round_.id)).all() == [None, None]


def test_a_round_given_the_address_during_the_import_is_a_conflict(db, tmp_path: Path) -> None:
    """A facilitator creates a round at the address while the import reads the files: the
    import is refused with the round form's words, not a database error."""
    d = tmp_path / "x"
    d.mkdir()
    (d / "comments.csv").write_text(
        "timestamp,comment-id,author-id,agrees,disagrees,moderated,comment-body\n"
        "1000,5,1,0,0,1,Five\n", encoding="utf-8")
    (d / "votes.csv").write_text("timestamp,datetime,comment-id,voter-id,vote\n",
                                 encoding="utf-8")
    other = sa.insert(Round).values(slug="taken", title="Other")
    with committed_first(Round, lambda: other) as raced, \
            pytest.raises(Conflict, match="already exists"):
        polis_import.import_directory(d, slug="taken")
    assert raced
    assert db.session.scalars(sa.select(Round.title)).all() == ["Other"]
    assert count(db, Proposal) == 0


@pytest.mark.parametrize("seven", ["7", "9000000000000000007"])  # ids close or far apart
def test_latest_vote_wins_by_time_then_by_row(db, tmp_path: Path, seven: str) -> None:
    """Rows out of time order, and two votes of one pair at the same millisecond: the
    latest in time is the vote, the later row of the file among equal times (epoch seconds
    here); the vote was created at the pair's earliest row, and every row is an event in
    time order."""
    d = tmp_path / "x"
    d.mkdir()
    (d / "comments.csv").write_text(
        "timestamp,comment-id,author-id,agrees,disagrees,moderated,comment-body\n"
        "1000,5,1,0,0,1,Five\n1000,3,2,0,0,1,Three\n", encoding="utf-8")
    (d / "votes.csv").write_text(
        "timestamp,datetime,comment-id,voter-id,vote\n"
        f"9000,x,3,{seven},1\n"
        f"2000,x,3,{seven},-1\n"  # earlier than the row above: not the latest
        f"5000,x,5,{seven},1\n"
        f"5000,x,5,{seven},0\n"  # same time as the row above, later in the file: wins
        "4000,x,5,2,-1\n", encoding="utf-8")
    round_ = polis_import.import_directory(d, slug="order")
    external = dict(db.session.execute(
        sa.select(Participant.id, Participant.external_id)).tuples().all())
    texts = dict(db.session.execute(sa.select(Proposal.id, Proposal.text)).tuples().all())
    votes = {(external[v.participant_id], texts[v.proposal_id]):
             (v.value, v.created_at.timestamp(), v.updated_at.timestamp())
             for v in db.session.scalars(sa.select(Vote).where(Vote.round_id == round_.id))}
    assert votes == {(seven, "Three"): (1, 2000.0, 9000.0), (seven, "Five"): (0, 5000.0, 5000.0),
                     ("2", "Five"): (-1, 4000.0, 4000.0)}
    events = db.session.execute(sa.select(VoteEvent.value, VoteEvent.created_at)
                                .order_by(VoteEvent.id)).all()
    assert [(value, at.timestamp()) for value, at in events] == [
        (-1, 2000.0), (-1, 4000.0), (1, 5000.0), (0, 5000.0), (1, 9000.0)]
    first_seen = {p.external_id: p.created_at.timestamp()
                  for p in db.session.scalars(sa.select(Participant))}
    # author 2 was first seen writing; author 1 never voted, so is no participant
    assert first_seen == {"2": 1000.0, seven: 2000.0}


def test_an_imported_round_waits_for_its_snapshot_since_the_import(client, db) -> None:
    """Imported votes keep the times they were cast in Pol.is (Seattle's: June 2014), but the
    round has waited for its first snapshot only since the import: /healthz said 12 years,
    which set off any monitor's alarm at each import, and the facilitator's round page
    said the snapshot had been requested in 2014."""
    before = datetime.now(UTC)
    round_ = polis_import.import_directory(polis_dataset("15-per-hour-seattle"), slug="seattle")
    waiting = pending_since(round_.id)
    assert waiting is not None and before <= waiting <= datetime.now(UTC)
    rounds = {r["slug"]: r for r in client.get("/healthz").get_json()["rounds"]}
    assert rounds["seattle"]["refresh_pending"] is True
    assert rounds["seattle"]["pending_seconds"] < 60


def test_a_run_from_the_command_line_answers_the_request_of_the_import(runner, client,
                                                                       db) -> None:
    """After ``flask polis import`` and ``flask cluster run``, the round no longer waits:
    the import's request stayed, so /healthz reported a refresh pending for ever where no
    worker runs (and the facilitator's page a snapshot requested before the newest one)."""
    path = polis_dataset("15-per-hour-seattle")
    assert runner.invoke(args=["polis", "import", str(path), "--slug", "seattle"]).exit_code == 0
    round_ = db.session.scalar(sa.select(Round).where(Round.slug == "seattle"))
    assert pending_since(round_.id) is not None
    assert runner.invoke(args=["cluster", "run", "seattle"]).exit_code == 0
    assert pending_since(round_.id) is None
    rounds = {r["slug"]: r for r in client.get("/healthz").get_json()["rounds"]}
    assert rounds["seattle"]["refresh_pending"] is False


@pytest.mark.parametrize("name", ["15-per-hour-seattle", "scoop-hivemind.biodiversity",
                                  "bg2050-volunteers"])
@pytest.mark.slow  # imports real Pol.is exports
def test_other_datasets_load(db, name: str) -> None:
    round_ = polis_import.import_directory(polis_dataset(name), slug=name.replace(".", "-"))
    assert count(db, Proposal, round_.id) > 0
    assert count(db, Vote, round_.id) > 0


@pytest.mark.slow  # imports 30,000 real votes
def test_meta_statements_of_an_older_export_come_from_the_math_output(db) -> None:
    """The biodiversity HiveMind's export has no is-meta column; its math-pca2.json says
    which statements were meta: questions about the participant ("I am under 30 years of
    age", "I live in a large NZ city"), which Pol.is left out of its groups and which must
    not be offered as proposals that could reach the council."""
    path = polis_dataset("scoop-hivemind.biodiversity")
    meta_tids = json.loads((path / "math-pca2.json").read_text(encoding="utf-8"))["meta-tids"]
    round_ = polis_import.import_directory(path, slug="biodiversity")
    meta = set(db.session.scalars(sa.select(Proposal.external_id).where(
        Proposal.round_id == round_.id, Proposal.is_meta)))
    assert meta == {str(t) for t in meta_tids} and len(meta) == 15
    texts = dict(db.session.execute(sa.select(Proposal.external_id, Proposal.text).where(
        Proposal.round_id == round_.id)).tuples().all())
    assert texts["0"] == "I am under 30 years of age"
    entry = db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.action == "round.import_polis"))
    assert "math-pca2.json" in entry.details["files"]


@pytest.fixture()
def seattle_copy(tmp_path: Path) -> Path:
    target = tmp_path / "seattle"
    shutil.copytree(polis_dataset("15-per-hour-seattle"), target)
    return target


def _replace_line(path: Path, line: int, text: str) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[line - 1] = text
    path.write_text("\n".join(lines), encoding="utf-8")


def _assert_nothing_imported(db) -> None:
    db.session.rollback()
    for model in (Round, Participant, Proposal, Vote, VoteEvent, AuditEntry):
        assert count(db, model) == 0, model


BAD_CASES = {
    "missing file": (lambda d: (d / "votes.csv").unlink(), "votes.csv: The file is missing."),
    "missing column": (
        lambda d: _replace_line(d / "votes.csv", 1, "timestamp,datetime,comment-id,voter,vote"),
        'votes.csv, line 1, column “voter-id”: A required column is missing.'),
    "non-numeric vote": (
        lambda d: _replace_line(d / "votes.csv", 5, "1403057082753,x,0,4,yes"),
        'votes.csv, line 5, column “vote”: “yes” is not a valid number.'),
    "unknown comment": (
        lambda d: _replace_line(d / "votes.csv", 6, "1403057082753,x,999,4,1"),
        'votes.csv, line 6, column “comment-id”: Comment id 999 is not in comments.csv.'),
    "empty file": (lambda d: (d / "comments.csv").write_bytes(b""), "comments.csv: The file is empty."),
    "wrong encoding": (
        lambda d: (d / "comments.csv").write_bytes(
            (d / "comments.csv").read_text(encoding="utf-8").encode("utf-8")
            + "1,2,99,1,0,0,1,コメント\n".encode("shift_jis")),
        "comments.csv, line"),
    "unbalanced quote": (
        lambda d: _replace_line(d / "comments.csv", 3, '1403057082753,x,1,4,1,0,1,"never closed'),
        "comments.csv, line 3: A quoted value is not closed."),
    "NUL byte": (
        lambda d: _replace_line(d / "votes.csv", 4, "1403057082753,x\x00,0,4,1"),
        "votes.csv, line 4: The file is not a text file."),
    # a published statement whose text is only spaces would be an empty card to vote on
    "statement without text": (
        lambda d: _replace_line(d / "comments.csv", 4,
                                '1403058993627,Wed Jun 18 09:36:33 WIB 2014,36,85,53,30,1," \t"'),
        'comments.csv, line 4, column “comment-body”: A value is missing.'),
    "math output that is not JSON": (
        lambda d: (d / "math-pca2.json").write_text("{'meta-tids': [1]}", encoding="utf-8"),
        "math-pca2.json: The file is not Pol.is's math output (JSON with a list of meta-tids)."),
    "math output nested too deep": (
        lambda d: (d / "math-pca2.json").write_text("[" * 100_000 + "]" * 100_000),
        "math-pca2.json: The file is not Pol.is's math output (JSON with a list of meta-tids)."),
    "meta-tids that are not ids": (
        lambda d: (d / "math-pca2.json").write_text('{"meta-tids": ["1"]}', encoding="utf-8"),
        "math-pca2.json: The file is not Pol.is's math output (JSON with a list of meta-tids)."),
    "UTF-16": (
        lambda d: (d / "votes.csv").write_bytes(
            (d / "votes.csv").read_text(encoding="utf-8").encode("utf-16")),
        "votes.csv, line 1: The file is not UTF-8 text (it may be in Shift_JIS)."),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_inputs_name_the_place_and_write_nothing(db, seattle_copy: Path,
                                                     case: str) -> None:
    damage, expected = BAD_CASES[case]
    damage(seattle_copy)
    with pytest.raises(polis_import.PolisImportError) as info:
        polis_import.import_directory(seattle_copy, slug="bad")
    assert expected in str(info.value)
    _assert_nothing_imported(db)


def test_rejected_statement_without_text_imports(db, seattle_copy: Path) -> None:
    """A rejected statement is never shown, so an export that blanked its text imports."""
    _replace_line(seattle_copy / "comments.csv", 8,
                  "1403058803883,Wed Jun 18 09:33:23 WIB 2014,13,8,1,0,-1,")
    round_ = polis_import.import_directory(seattle_copy, slug="blank")
    blank = db.session.scalar(sa.select(Proposal).where(Proposal.round_id == round_.id,
                                                        Proposal.external_id == "13"))
    assert (blank.status, blank.text) == ("rejected", "")
    assert count(db, Proposal, round_.id) == 54


@pytest.mark.usefixtures("votes_table_refuses_inserts")
def test_failure_during_write_rolls_back(db, seattle_copy: Path) -> None:
    with pytest.raises(Exception, match="disk full"):  # the driver's or SQLAlchemy's error
        polis_import.import_directory(seattle_copy, slug="bad")
    _assert_nothing_imported(db)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VoteEvent)) == 0


def test_cli_import_and_error(runner, seattle_copy: Path, db) -> None:
    result = runner.invoke(args=["polis", "import", str(seattle_copy), "--slug", "sea"])
    assert result.exit_code == 0, result.output
    assert "Imported round “sea”" in result.output
    assert "Importing votes" in result.stderr  # a bar with percentages on a terminal
    assert ("1 statement that nobody had moderated in Pol.is waits for a facilitator's "
            "approval on the round's moderation page." in result.output)
    assert db.session.scalar(sa.select(Round.title).where(Round.slug == "sea")) == "$15/hour"
    result = runner.invoke(args=["polis", "import", str(seattle_copy), "--slug", "sea"])
    assert result.exit_code == 2 and "already exists" in result.output
    (seattle_copy / "comments.csv").write_bytes(b"")
    result = runner.invoke(args=["polis", "import", str(seattle_copy)])
    assert result.exit_code == 2 and "comments.csv: The file is empty." in result.output


def test_cli_refuses_the_slug_before_reading_the_export(runner, seattle_copy: Path,
                                                        db) -> None:
    """A city's export takes seconds to read: an address the round cannot have is refused
    before, not after (the biodiversity HiveMind's folder name, with its dot, given as is)."""
    _replace_line(seattle_copy / "votes.csv", 5, "1403057082753,x,0,4,yes")
    result = runner.invoke(args=["polis", "import", str(seattle_copy), "--slug",
                                 "scoop-hivemind.biodiversity"])
    assert result.exit_code == 2 and "The slug may contain only" in result.output
    assert "votes.csv" not in result.output and "Importing votes" not in result.stderr
    _assert_nothing_imported(db)


def test_every_problem_of_the_reader_has_a_message() -> None:
    from clustering.polis_export import PROBLEM_KINDS

    assert set(PROBLEM_KINDS) <= set(polis_import.PROBLEMS)


def test_cli_errors_in_japanese_name_line_and_column_and_exit_2(runner, seattle_copy: Path,
                                                                  db) -> None:
    _replace_line(seattle_copy / "votes.csv", 5, "1403057082753,x,0,4,yes")
    result = runner.invoke(args=["polis", "import", str(seattle_copy)],
                           env={"LC_ALL": None, "LC_MESSAGES": None, "LANG": "ja_JP.UTF-8"})
    assert result.exit_code == 2
    assert ("取り込めませんでした: votes.csv の5行目、「vote」列：「yes」は正しい数値ではありません。"
            in result.output)
    result = runner.invoke(args=["polis", "import", str(seattle_copy)],
                           env={"LC_ALL": "en_US.UTF-8", "LANG": "ja_JP.UTF-8"})
    assert result.exit_code == 2
    assert ('Import failed: votes.csv, line 5, column “vote”: “yes” is not a valid number.'
            in result.output)
    _assert_nothing_imported(db)


def test_unmoderated_statements_wait_for_approval(runner, seattle_copy: Path, db,
                                                  login_as) -> None:
    """Seattle's comment 53, written in 2018 and never moderated, is not offered for voting
    until a facilitator approves it; the approval does not count as years of moderation
    time on the dashboard (the statement was submitted to Pol.is, not here)."""
    result = runner.invoke(args=["polis", "import", str(seattle_copy), "--slug", "sea"],
                           env={"LC_ALL": None, "LC_MESSAGES": None, "LANG": "ja_JP.UTF-8"})
    assert result.exit_code == 0, result.output
    assert ("Pol.is でモデレーションされていなかった1件の提案が、ラウンドのモデレーション画面で"
            "ファシリテーターの承認を待っています。" in result.output)
    round_ = db.session.scalar(sa.select(Round).where(Round.slug == "sea"))
    waiting = db.session.scalar(sa.select(Proposal).where(Proposal.round_id == round_.id,
                                                          Proposal.status == "pending"))
    assert waiting.external_id == "53"
    assert waiting.id not in {p.id for p in published(round_)}
    facilitator = login_as("facilitator")
    assert moderation.moderate(round_, [waiting.id], "approve", actor=facilitator) == 1
    assert db.session.get(Proposal, waiting.id).status == "published"
    assert moderation.median_time_to_moderate(round_.id) is None
