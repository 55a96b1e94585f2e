"""votes: keyed by (participant_id, proposal_id), without an id of their own

One vote per participant and proposal was already the unique index every vote write and
lookup by participant goes through; as the primary key it replaces the id column, whose
sequence step and index entry each written row paid for (a bulk load's database CPU by
about a third).

Revision ID: 108ff603a896
Revises: c4d2a8e61f37
Create Date: 2026-11-30 05:45:40.670239

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '108ff603a896'
down_revision = 'c4d2a8e61f37'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.drop_constraint('uq_votes_participant_id_proposal_id', type_='unique')
        batch_op.drop_constraint('pk_votes', type_='primary')
        batch_op.drop_column('id')
        batch_op.create_primary_key('pk_votes', ['participant_id', 'proposal_id'])


def downgrade():
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.drop_constraint('pk_votes', type_='primary')
        batch_op.create_unique_constraint('uq_votes_participant_id_proposal_id',
                                          ['participant_id', 'proposal_id'])
    if op.get_bind().dialect.name == 'postgresql':
        # SERIAL numbers the existing rows from a new sequence, as the column had.
        op.execute('ALTER TABLE votes ADD COLUMN id SERIAL')
        op.create_primary_key('pk_votes', 'votes', ['id'])
    else:
        # SQLite numbers the rows itself when the table is rebuilt with an INTEGER
        # PRIMARY KEY that the copied rows leave empty.
        with op.batch_alter_table('votes', schema=None, recreate='always') as batch_op:
            batch_op.add_column(sa.Column('id', sa.Integer(), nullable=False))
            batch_op.create_primary_key('pk_votes', ['id'])
