"""vote checks without IN lists

The CHECK constraints of votes and vote_events say "one of these values" as equalities
joined by OR instead of an IN list: SQLite builds a temporary index for an IN list of a
CHECK on every row it inserts, which made a 950,000-vote import spend most of its insert
time in the checks. The rule is the same.

Revision ID: b7e1c4a9d205
Revises: b7e3c1d29a40
Create Date: 2026-11-29 21:55:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b7e1c4a9d205'
down_revision = 'b7e3c1d29a40'
branch_labels = None
depends_on = None

SOURCES = "source = 'web' OR source = 'api' OR source = 'assisted' OR source = 'import'"
VALUES = "value = -1 OR value = 0 OR value = 1"
OLD_SOURCES = "source IN ('web', 'api', 'assisted', 'import')"
OLD_VALUES = "value IN (-1, 0, 1)"


def _replace(checks):
    for table, names in (("votes", ("value",)), ("vote_events", ("value", "source"))):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in names:
                batch_op.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
                batch_op.create_check_constraint(op.f(f"ck_{table}_{name}"), checks[name])


def upgrade():
    _replace({"value": VALUES, "source": SOURCES})


def downgrade():
    _replace({"value": OLD_VALUES, "source": OLD_SOURCES})
