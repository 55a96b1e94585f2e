"""one stored form of each e-mail address

Addresses are stored in one form now (NFKC, lower case, the domain in its ASCII form:
deliberation.services.accounts.normalise_email), so that the same mailbox typed with
full-width letters or a Japanese domain is one account. Accounts stored before in another
form get that form, unless another account holds it already (then the row is left as it
is: the address belongs to the other account). The rule is copied here as it was written,
so that this step does the same whatever the code becomes.

Revision ID: 7b3f9c1d2e58
Revises: 5c0d2b7e9a41
Create Date: 2026-11-30 17:00:00.000000

"""
import contextlib
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7b3f9c1d2e58'
down_revision = '5c0d2b7e9a41'
branch_labels = None
depends_on = None


def _normalise(email):
    text = unicodedata.normalize("NFKC", email or "").strip()
    local, at, domain = text.rpartition("@")
    if not at:
        return text.lower()
    domain = domain.lower()
    with contextlib.suppress(UnicodeError):
        domain = domain.encode("idna").decode("ascii")
    return f"{local.lower()}@{domain}"


def upgrade():
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('email', sa.String))
    bind = op.get_bind()
    taken = set(bind.execute(sa.select(users.c.email).where(users.c.email.is_not(None)))
                .scalars())
    rows = bind.execute(sa.select(users.c.id, users.c.email).where(users.c.email.is_not(None))
                        .order_by(users.c.id)).all()
    for user_id, email in rows:
        stored = _normalise(email)
        if stored != email and stored not in taken:
            bind.execute(sa.update(users).where(users.c.id == user_id).values(email=stored))
            taken.add(stored)


def downgrade():
    pass  # the older form is not kept; both forms reach the same mailbox
