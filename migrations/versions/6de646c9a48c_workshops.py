"""workshops: time-boxed registration links for a venue

Revision ID: 6de646c9a48c
Revises: f2a74b51d0de
Create Date: 2026-11-29 18:24:04.517901

"""
from alembic import op
import sqlalchemy as sa

import deliberation.models._common


# revision identifiers, used by Alembic.
revision = '6de646c9a48c'
down_revision = 'f2a74b51d0de'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('workshops',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('label', sa.String(length=80), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('registrations', sa.Integer(), server_default='0', nullable=False),
    sa.Column('opened_at', deliberation.models._common.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closes_at', deliberation.models._common.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', deliberation.models._common.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('registrations >= 0 AND registrations <= seats', name=op.f('ck_workshops_registrations')),
    sa.CheckConstraint('seats BETWEEN 1 AND 500', name=op.f('ck_workshops_seats')),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_workshops_round_id_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workshops')),
    sa.UniqueConstraint('code', name=op.f('uq_workshops_code'))
    )
    with op.batch_alter_table('workshops', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workshops_round_id'), ['round_id'], unique=False)



def downgrade():
    with op.batch_alter_table('workshops', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workshops_round_id'))

    op.drop_table('workshops')
