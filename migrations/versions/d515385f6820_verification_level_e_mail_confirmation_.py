"""verification level, e-mail confirmation, server-side sessions, notification settings, mail outbox

Revision ID: d515385f6820
Revises: 7b3d9c1e5a20
Create Date: 2026-11-29 15:42:01.472970

"""
from alembic import op
import sqlalchemy as sa

import deliberation.models._common


# revision identifiers, used by Alembic.
revision = 'd515385f6820'
down_revision = '7b3d9c1e5a20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mail_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', deliberation.models._common.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', deliberation.models._common.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'failed')", name=op.f('ck_mail_outbox_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_outbox'))
    )
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_mail_outbox_due', ['status', 'next_attempt_at'], unique=False)

    op.create_table('mail_suppressions',
    sa.Column('address_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', deliberation.models._common.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('address_hash', name=op.f('pk_mail_suppressions'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verification_level', sa.String(length=20), server_default='unverified', nullable=False))
        batch_op.add_column(sa.Column('email_confirmed_at', deliberation.models._common.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('session_ids', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('notify_council_answers', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('notify_own_proposals', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.create_check_constraint(
            'verification_level',
            "verification_level IN ('unverified', 'email', 'resident_verified')")

    # Accounts marked verified before keep that standing as the highest level.
    users = sa.table('users', sa.column('is_verified', sa.Boolean()),
                     sa.column('verification_level', sa.String()))
    op.execute(users.update().where(users.c.is_verified == sa.true())
               .values(verification_level='resident_verified'))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('is_verified')


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_verified', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    users = sa.table('users', sa.column('is_verified', sa.Boolean()),
                     sa.column('verification_level', sa.String()))
    op.execute(users.update().where(users.c.verification_level == 'resident_verified')
               .values(is_verified=sa.true()))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_verification_level'), type_='check')
        batch_op.drop_column('notify_own_proposals')
        batch_op.drop_column('notify_council_answers')
        batch_op.drop_column('session_ids')
        batch_op.drop_column('email_confirmed_at')
        batch_op.drop_column('verification_level')

    op.drop_table('mail_suppressions')
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_mail_outbox_due')

    op.drop_table('mail_outbox')
