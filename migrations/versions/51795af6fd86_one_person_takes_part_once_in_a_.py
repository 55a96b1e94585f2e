"""one person takes part once in a round for verified residents

participants.person_key holds, in a round for verified residents, a hash of the verified
person (users.verified_person) with the round, keyed with VERIFICATION_KEY (SECRET_KEY
when it is unset), unique per round and kept when the account
is deleted or its verification revoked: the person may verify another account, but not
take part again where the first one's votes still count. Participants of accounts verified
now get it; those of accounts deleted before this step cannot (nothing links them).

Revision ID: 51795af6fd86
Revises: 73d057e1acaf
Create Date: 2026-12-01 06:17:40.758886

"""
import hashlib
import hmac

from alembic import op
from flask import current_app
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '51795af6fd86'
down_revision = '73d057e1acaf'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('person_key', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_participants_round_id_person_key'),
                                          ['round_id', 'person_key'])

    participants = sa.table('participants', sa.column('id', sa.Integer),
                            sa.column('round_id', sa.Integer), sa.column('user_id', sa.Integer),
                            sa.column('person_key', sa.String))
    users = sa.table('users', sa.column('id', sa.Integer),
                     sa.column('verified_person', sa.String))
    rounds = sa.table('rounds', sa.column('id', sa.Integer), sa.column('eligibility', sa.String))
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(participants.c.id, participants.c.round_id, users.c.verified_person)
        .join(users, users.c.id == participants.c.user_id)
        .join(rounds, rounds.c.id == participants.c.round_id)
        .where(rounds.c.eligibility == 'verified', users.c.verified_person.is_not(None))).all()
    # the key of the person hashes (deliberation.services.verification.person_secret)
    person_secret = (current_app.config.get("VERIFICATION_KEY")
                     or current_app.config["SECRET_KEY"])
    secret = hashlib.sha256(("round-person:" + person_secret).encode())
    for participant_id, round_id, person in rows:
        # as deliberation.services.verification.round_person_key computes it, written out
        # here so that this step does the same whatever the code becomes
        key = hmac.new(secret.digest(), f"{round_id}\x00{person}".encode(),
                       hashlib.sha256).hexdigest()
        bind.execute(sa.update(participants).where(participants.c.id == participant_id)
                     .values(person_key=key))


def downgrade():
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_participants_round_id_person_key'),
                                 type_='unique')
        batch_op.drop_column('person_key')
