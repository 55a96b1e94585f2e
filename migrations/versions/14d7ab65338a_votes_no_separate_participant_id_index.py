"""votes: no separate participant_id index

The unique (participant_id, proposal_id) index already serves every lookup by
participant; the second index only cost time on each vote and a bulk import.

Revision ID: 14d7ab65338a
Revises: 2e1d7db0a8e9
Create Date: 2026-11-29 18:38:59.852749

"""
from alembic import op
import sqlalchemy as sa

import deliberation.models._common


# revision identifiers, used by Alembic.
revision = '14d7ab65338a'
down_revision = '2e1d7db0a8e9'
branch_labels = None
depends_on = None


def upgrade():
    # Plain DROP INDEX: no table rebuild on SQLite.
    op.drop_index('ix_votes_participant_id', table_name='votes')

def downgrade():
    op.create_index('ix_votes_participant_id', 'votes', ['participant_id'], unique=False)

