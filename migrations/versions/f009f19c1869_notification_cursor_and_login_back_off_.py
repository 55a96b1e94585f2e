"""notification cursor and login back-off counts

Revision ID: f009f19c1869
Revises: d515385f6820
Create Date: 2026-11-29 15:57:34.914777

"""
from alembic import op
import sqlalchemy as sa

import deliberation.models._common


# revision identifiers, used by Alembic.
revision = 'f009f19c1869'
down_revision = 'd515385f6820'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_failures',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', deliberation.models._common.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_failures'))
    )
    op.create_table('notification_cursors',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('last_audit_id', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_notification_cursors'))
    )


def downgrade():
    op.drop_table('notification_cursors')
    op.drop_table('login_failures')
