"""Every test runs with the database's foreign-key checks on, including the tests that
come after another test's tables were emptied (the cases below run one after another)."""

import pytest
import sqlalchemy as sa

from deliberation.models import Report


@pytest.mark.parametrize("turn", [1, 2, 3])
def test_a_row_pointing_nowhere_is_refused(db, turn):
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(sa.insert(Report).values(proposal_id=999_999, reason="x"))
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 0
