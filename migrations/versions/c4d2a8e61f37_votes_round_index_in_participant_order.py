"""votes: the round index in the participant's order

A bulk load (a Pol.is import) writes a round's votes participant by participant, the
order of the unique (participant_id, proposal_id) index; the round index in that order
(round_id, participant_id, proposal_id, value) grows at its right end too, where the old
(round_id, proposal_id, ...) order took each row to a different page.

Revision ID: c4d2a8e61f37
Revises: b7e1c4a9d205
Create Date: 2026-11-30 03:10:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c4d2a8e61f37'
down_revision = 'b7e1c4a9d205'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.drop_index('ix_votes_round_proposal')
        batch_op.create_index('ix_votes_round_participant',
                              ['round_id', 'participant_id', 'proposal_id', 'value'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.drop_index('ix_votes_round_participant')
        batch_op.create_index('ix_votes_round_proposal',
                              ['round_id', 'proposal_id', 'participant_id', 'value'],
                              unique=False)
