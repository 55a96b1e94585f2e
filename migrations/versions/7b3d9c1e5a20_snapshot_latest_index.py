"""index for the newest ok snapshot of a round

Revision ID: 7b3d9c1e5a20
Revises: 45fceec2731e
Create Date: 2026-11-23 19:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '7b3d9c1e5a20'
down_revision = '45fceec2731e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cluster_snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_cluster_snapshots_round_status_id',
                              ['round_id', 'status', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('cluster_snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_cluster_snapshots_round_status_id')
