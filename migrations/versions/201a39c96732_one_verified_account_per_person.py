"""one verified account per person

users.verified_person holds, while an account is a verified resident, the keyed hash of
the person behind it (unique): the database refuses a second account of one person, also
when both are verified at the same moment. Accounts verified before through the national
ID app get the hash their latest verification record holds, the earliest account first;
a later account of the same person keeps its level and no hash (staff can revoke it).

Revision ID: 201a39c96732
Revises: 7b3f9c1d2e58
Create Date: 2026-12-01 06:04:58.850364

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '201a39c96732'
down_revision = '7b3f9c1d2e58'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verified_person', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_users_verified_person'), ['verified_person'])

    users = sa.table('users', sa.column('id', sa.Integer), sa.column('verified_person', sa.String),
                     sa.column('verification_level', sa.String),
                     sa.column('deleted_at', sa.DateTime))
    records = sa.table('verification_records', sa.column('id', sa.Integer),
                       sa.column('user_id', sa.Integer), sa.column('details', sa.JSON))
    bind = op.get_bind()
    latest = {}  # user id -> the details of its latest verification record
    for user_id, details in bind.execute(
            sa.select(records.c.user_id, records.c.details)
            .join(users, users.c.id == records.c.user_id)
            .where(users.c.verification_level == 'resident_verified',
                   users.c.deleted_at.is_(None))
            .order_by(records.c.id)):
        latest[user_id] = details or {}
    taken = set()
    for user_id in sorted(latest):
        person = latest[user_id].get('person')
        if isinstance(person, str) and person not in taken:
            taken.add(person)
            bind.execute(sa.update(users).where(users.c.id == user_id)
                         .values(verified_person=person))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_verified_person'), type_='unique')
        batch_op.drop_column('verified_person')
