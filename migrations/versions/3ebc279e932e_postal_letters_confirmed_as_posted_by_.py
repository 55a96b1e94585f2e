"""postal letters confirmed as posted by another member of staff

A postal code works only once another member of staff than the one who generated it
confirmed that its batch's letters were posted. Codes generated before this step wait for
that confirmation too (the postal-codes page lists them): whoever generated them held them
all, and nobody else said that letters went out.

Revision ID: 3ebc279e932e
Revises: 73d057e1acaf
Create Date: 2026-12-01 06:13:27.107112

"""
from alembic import op
import sqlalchemy as sa

import deliberation.models._common


# revision identifiers, used by Alembic.
revision = '3ebc279e932e'
down_revision = '73d057e1acaf'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('postal_codes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('posted_at', deliberation.models._common.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('posted_confirmed_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_postal_codes_posted_confirmed_by_id_users'), 'users', ['posted_confirmed_by_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('postal_codes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_postal_codes_posted_confirmed_by_id_users'), type_='foreignkey')
        batch_op.drop_column('posted_confirmed_by_id')
        batch_op.drop_column('posted_at')
