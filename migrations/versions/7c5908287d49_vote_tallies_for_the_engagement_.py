"""vote tallies for the engagement dashboard

The dashboard's vote figures per round, kept up to date from the vote events by id, so
that a round of a million votes does not count them all on each request.

Revision ID: 7c5908287d49
Revises: 14d7ab65338a
Create Date: 2026-11-29 18:54:41.220390

"""
from alembic import op
import sqlalchemy as sa

import deliberation.models._common


# revision identifiers, used by Alembic.
revision = '7c5908287d49'
down_revision = '14d7ab65338a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('vote_tallies',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('last_event_id', sa.BigInteger(), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('votes_by_day', sa.JSON(), nullable=False),
    sa.Column('first_day', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_vote_tallies_round_id_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', name=op.f('pk_vote_tallies'))
    )


def downgrade():
    op.drop_table('vote_tallies')
