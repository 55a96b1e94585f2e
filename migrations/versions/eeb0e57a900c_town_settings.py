"""town settings: the operator's overrides of the town's name, operator, contact, terms and logo

Revision ID: eeb0e57a900c
Revises: c086b6fb962c
Create Date: 2026-11-29 18:33:09.694682

"""
from alembic import op
import sqlalchemy as sa

import deliberation.models._common


# revision identifiers, used by Alembic.
revision = 'eeb0e57a900c'
down_revision = 'c086b6fb962c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('town_settings',
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=True),
    sa.Column('updated_at', deliberation.models._common.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_town_settings_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_town_settings'))
    )


def downgrade():
    op.drop_table('town_settings')
