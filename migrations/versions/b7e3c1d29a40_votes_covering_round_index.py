"""votes: the round index covers the participant and the value

The clustering reads every current vote of a round; with the participant and the value in
the (round_id, proposal_id) index, a round of a million votes is read from the index
alone instead of one table lookup per vote.

Revision ID: b7e3c1d29a40
Revises: 7c5908287d49
Create Date: 2026-11-29 21:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b7e3c1d29a40'
down_revision = '7c5908287d49'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.drop_index('ix_votes_round_proposal')
        batch_op.create_index('ix_votes_round_proposal',
                              ['round_id', 'proposal_id', 'participant_id', 'value'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.drop_index('ix_votes_round_proposal')
        batch_op.create_index('ix_votes_round_proposal', ['round_id', 'proposal_id'],
                              unique=False)
