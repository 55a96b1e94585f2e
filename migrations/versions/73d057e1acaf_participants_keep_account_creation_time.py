"""participants keep when their account was made once it is deleted

Deleting an account unlinks its participants (user_id NULL); the coordination screen still
needs when the account was made to see a burst of accounts made together. Accounts deleted
before this step cannot be given it: nothing links them to their participants any more.

Revision ID: 73d057e1acaf
Revises: 201a39c96732
Create Date: 2026-12-01 06:04:36.290128

"""
from alembic import op
import sqlalchemy as sa

import deliberation.models._common


# revision identifiers, used by Alembic.
revision = '73d057e1acaf'
down_revision = '201a39c96732'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('participants', sa.Column(
        'account_created_at', deliberation.models._common.UTCDateTime(timezone=True),
        nullable=True))


def downgrade():
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_column('account_created_at')
