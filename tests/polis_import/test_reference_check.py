"""The bulk load's references: where the load skips PostgreSQL's per-row foreign-key
triggers (a role that may set ``session_replication_role``), every vote row it writes
still refers to a participant and a proposal of its own round, and every proposal to an
author of its round, because the importer takes each id from the rows it wrote and read
back in the same transaction; a
role without the right gets every row checked by the database and imports all the same."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest
import sqlalchemy as sa

from deliberation.bulk import EpochSeconds, insert_columns, without_reference_triggers
from deliberation.database import db as database
from deliberation.interop.polis_import import import_directory, read_directory, rows_to_write
from deliberation.models import Participant, Proposal, Vote, VoteEvent
from tests.conftest import polis_dataset
from tests.factories import make_participant, make_proposal, make_round


def _events(round_id: int, participants: list[int], proposal_id: int) -> int:
    return insert_columns(VoteEvent.__table__, {
        "round_id": round_id, "participant_id": np.array(participants, dtype=np.int64),
        "proposal_id": proposal_id, "value": 1, "source": "import",
        "created_at": EpochSeconds(np.arange(len(participants), dtype=np.float64)),
    }, len(participants))


def _stray_rows(round_id: int) -> dict[str, int]:
    """Rows of the round, per table, that refer to no participant or proposal of the
    round (what the skipped foreign-key checks, and more, would have refused)."""
    strays = {"proposals": database.session.scalar(
        sa.select(sa.func.count()).select_from(Proposal).where(
            Proposal.round_id == round_id, Proposal.author_id.is_not(None),
            Proposal.author_id.not_in(
                sa.select(Participant.id).where(Participant.round_id == round_id))))}
    for model in (Vote, VoteEvent):
        strays[model.__tablename__] = database.session.scalar(
            sa.select(sa.func.count()).select_from(model).where(
                model.round_id == round_id, sa.or_(
                    model.participant_id.not_in(
                        sa.select(Participant.id).where(Participant.round_id == round_id)),
                    model.proposal_id.not_in(
                        sa.select(Proposal.id).where(Proposal.round_id == round_id)))))
    return strays


def _import_seattle() -> int:
    """Import a real export with every vote row it should have; returns the round's id."""
    directory = polis_dataset("15-per-hour-seattle")
    export = read_directory(directory)
    round_ = import_directory(directory, slug="seattle")
    counts = {model: database.session.scalar(
                  sa.select(sa.func.count()).select_from(model)
                  .where(model.round_id == round_.id))
              for model in (Vote, VoteEvent)}
    assert counts[VoteEvent] == len(export.vote_columns) > 1000
    assert counts[Vote] + counts[VoteEvent] == rows_to_write(export)
    return round_.id


def test_a_load_without_the_checks_takes_a_missing_participant(db) -> None:
    """Why the importer must guarantee its references where the load skips the checks:
    the database then takes a row that refers to nothing."""
    round_ = make_round()
    voter, proposal = make_participant(round_), make_proposal(round_)
    with without_reference_triggers() as unchecked:
        if not unchecked:
            pytest.skip("the database checks every row itself (SQLite, or a role that "
                        "may not set session_replication_role)")
        _events(round_.id, [voter.id, voter.id + 1000], proposal.id)
    assert _stray_rows(round_.id) == {"proposals": 0, "votes": 0, "vote_events": 1}


def test_import_refers_only_to_its_own_round(db) -> None:
    other = make_round()  # ids of another round's rows precede the import's
    make_proposal(other, author_id=make_participant(other).id)
    round_id = _import_seattle()
    assert _stray_rows(round_id) == {"proposals": 0, "votes": 0, "vote_events": 0}


PLAIN_ROLE = "hiroba_test_plain"


@pytest.fixture()
def as_plain_role(db):
    """On PostgreSQL, every transaction of the app's session runs as a role that is not a
    superuser and has no right to set ``session_replication_role``: the import's checked
    path, which a superuser test database (as in CI) would never take otherwise."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("roles are PostgreSQL's")
    with db.engine.begin() as connection:
        if connection.exec_driver_sql("SELECT current_setting('is_superuser')").scalar() != "on":
            yield  # the tests' own role already takes the checked path
            return
        # Roles belong to the server, which several test databases share.
        connection.exec_driver_sql(
            f"DO $$ BEGIN CREATE ROLE {PLAIN_ROLE} NOLOGIN NOSUPERUSER; "
            "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$")
        connection.exec_driver_sql(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {PLAIN_ROLE}")
        connection.exec_driver_sql(
            f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {PLAIN_ROLE}")

    def set_role(_session, _transaction, connection) -> None:
        connection.exec_driver_sql(f"SET LOCAL ROLE {PLAIN_ROLE}")  # ends with the transaction

    sa.event.listen(db.session, "after_begin", set_role)
    try:
        yield
    finally:
        sa.event.remove(db.session, "after_begin", set_role)


def test_a_role_without_the_right_checks_every_row(as_plain_role, db) -> None:
    round_ = make_round()
    voter, proposal = make_participant(round_), make_proposal(round_)
    with without_reference_triggers() as unchecked:
        assert not unchecked
        # the driver's own error: the rows go through its COPY, not through SQLAlchemy
        with pytest.raises(psycopg.errors.ForeignKeyViolation,
                           match="fk_vote_events_participant_id"):
            _events(round_.id, [voter.id, voter.id + 1000], proposal.id)


def test_import_as_a_role_without_the_right(as_plain_role, db) -> None:
    round_id = _import_seattle()
    assert db.session.scalar(sa.select(sa.func.current_setting("is_superuser"))) == "off"
    assert _stray_rows(round_id) == {"proposals": 0, "votes": 0, "vote_events": 0}
