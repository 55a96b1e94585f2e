"""rounds remember the newest vote event when their open data was first public

Votes cast after it (a reopened round) go into the open data only in stretches of at least
the small-count minimum of voters, so that two downloads around a reopening do not differ
by a few people's ballots. Rounds whose open data was already out get the mark on their
next export, with every vote they have then.

Revision ID: c41d7e2a9b30
Revises: 3ebc279e932e, 51795af6fd86
Create Date: 2026-12-01 06:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c41d7e2a9b30'
down_revision = ('3ebc279e932e', '51795af6fd86')
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('rounds', sa.Column('open_data_until', sa.BigInteger(), nullable=True))


def downgrade():
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.drop_column('open_data_until')
