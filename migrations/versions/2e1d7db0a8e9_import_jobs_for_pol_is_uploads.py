"""import jobs for Pol.is uploads

A facilitator's upload is stored and queued; the background worker imports it and
records its stage, counts and error here (deliberation/jobs/polis_imports.py).

Revision ID: 2e1d7db0a8e9
Revises: eeb0e57a900c
Create Date: 2026-11-29 18:27:40.888536

"""
from alembic import op
import sqlalchemy as sa

import deliberation.models._common


# revision identifiers, used by Alembic.
revision = '2e1d7db0a8e9'
down_revision = 'eeb0e57a900c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('import_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=True),
    sa.Column('round_phase', sa.String(length=16), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('rows_read', sa.Integer(), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=False),
    sa.Column('rows_written', sa.Integer(), nullable=False),
    sa.Column('error', sa.JSON(), nullable=True),
    sa.Column('round_id', sa.Integer(), nullable=True),
    sa.Column('lease_owner', sa.String(length=128), nullable=True),
    sa.Column('lease_until', deliberation.models._common.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', deliberation.models._common.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', deliberation.models._common.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', deliberation.models._common.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("stage IN ('queued', 'reading', 'writing', 'done', 'failed')", name=op.f('ck_import_jobs_stage')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_import_jobs_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_import_jobs_round_id_rounds'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_jobs'))
    )
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_jobs_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index('ix_import_jobs_stage_id', ['stage', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_import_jobs_stage_id')
        batch_op.drop_index(batch_op.f('ix_import_jobs_created_by_id'))

    op.drop_table('import_jobs')
