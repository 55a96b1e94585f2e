"""reader setting: furigana or easy Japanese

``users.reading``: how Japanese pages are written for the account (standard, furigana,
easy); NULL until the account picks one.

Revision ID: c086b6fb962c
Revises: 6de646c9a48c
Create Date: 2026-11-29 18:22:09.608644

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c086b6fb962c'
down_revision = '6de646c9a48c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reading', sa.String(length=16), nullable=True))
        batch_op.create_check_constraint(
            'reading', "reading IN ('standard', 'furigana', 'easy')")


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint('reading', type_='check')
        batch_op.drop_column('reading')
