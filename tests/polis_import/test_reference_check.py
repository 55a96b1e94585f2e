"""The bulk vote load's reference check: what the database does not check row by row (on
PostgreSQL, where the load skips the per-row foreign-key triggers), the set-based check
after the load catches before the commit; and a role without the right to skip them (not
a superuser, as CI's is) gets every row checked by the database and imports all the same."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest
import sqlalchemy as sa

from deliberation.bulk import EpochSeconds, insert_columns, without_reference_triggers
from deliberation.interop.polis_import import (
    check_vote_references,
    import_directory,
    read_directory,
    rows_to_write,
)
from deliberation.models import Vote, VoteEvent
from tests.conftest import polis_dataset
from tests.factories import make_participant, make_proposal, make_round


def _events(round_id: int, participants: list[int], proposal_id: int) -> int:
    return insert_columns(VoteEvent.__table__, {
        "round_id": round_id, "participant_id": np.array(participants, dtype=np.int64),
        "proposal_id": proposal_id, "value": 1, "source": "import",
        "created_at": EpochSeconds(np.arange(len(participants), dtype=np.float64)),
    }, len(participants))


def test_a_vote_of_another_rounds_participant_is_caught(db) -> None:
    ours, other = make_round(), make_round()
    voter, stranger = make_participant(ours), make_participant(other)
    proposal = make_proposal(ours)
    with without_reference_triggers():
        rows = _events(ours.id, [voter.id, stranger.id], proposal.id)
    with pytest.raises(RuntimeError, match="vote_events: 1 of 2 rows"):
        check_vote_references(ours.id, {VoteEvent: rows})


def test_a_vote_of_a_missing_participant_is_caught(db) -> None:
    round_ = make_round()
    voter, proposal = make_participant(round_), make_proposal(round_)
    missing = voter.id + 1000
    with without_reference_triggers() as unchecked:
        if not unchecked:
            pytest.skip("the database checks every row itself (SQLite, or a role that "
                        "may not set session_replication_role)")
        rows = _events(round_.id, [voter.id, missing], proposal.id)
    with pytest.raises(RuntimeError, match="vote_events: 1 of 2 rows"):
        check_vote_references(round_.id, {VoteEvent: rows})


def test_references_within_the_round_pass(db) -> None:
    round_ = make_round()
    voters = [make_participant(round_).id for _ in range(3)]
    proposal = make_proposal(round_)
    with without_reference_triggers():
        rows = _events(round_.id, voters, proposal.id)
    check_vote_references(round_.id, {VoteEvent: rows, Vote: 0})


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
    directory = polis_dataset("15-per-hour-seattle")
    export = read_directory(directory)
    round_ = import_directory(directory, slug="seattle")
    assert db.session.scalar(sa.select(sa.func.current_setting("is_superuser"))) == "off"
    counts = {model: db.session.scalar(sa.select(sa.func.count()).select_from(model)
                                       .where(model.round_id == round_.id))
              for model in (Vote, VoteEvent)}
    assert counts[VoteEvent] == len(export.vote_columns) > 1000
    assert counts[Vote] + counts[VoteEvent] == rows_to_write(export)
    check_vote_references(round_.id, counts)
