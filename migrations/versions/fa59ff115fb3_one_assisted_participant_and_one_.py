"""one assisted participant and one workshop per label and round

A form sent twice created two rows with the same label, which nobody could tell apart.
Existing repeats keep their rows and votes and are numbered: "用紙3", "用紙3 (2)", ...

Revision ID: fa59ff115fb3
Revises: 108ff603a896
Create Date: 2026-11-30 08:17:53.966072

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'fa59ff115fb3'
down_revision = '108ff603a896'
branch_labels = None
depends_on = None

LABEL_LENGTH = 80


def _number_repeated_labels(table: str) -> None:
    bind = op.get_bind()
    rows = sa.table(table, sa.column('id', sa.Integer), sa.column('round_id', sa.Integer),
                    sa.column('label', sa.String))
    repeated = (sa.select(rows.c.round_id, rows.c.label).where(rows.c.label.is_not(None))
                .group_by(rows.c.round_id, rows.c.label).having(sa.func.count() > 1))
    for round_id, label in bind.execute(repeated).all():
        taken = set(bind.scalars(sa.select(rows.c.label).where(rows.c.round_id == round_id)))
        ids = bind.scalars(sa.select(rows.c.id).where(
            rows.c.round_id == round_id, rows.c.label == label).order_by(rows.c.id)).all()
        n = 1
        for row_id in ids[1:]:
            while True:
                n += 1
                suffix = f" ({n})"
                new = label[:LABEL_LENGTH - len(suffix)] + suffix
                if new not in taken:
                    break
            taken.add(new)
            bind.execute(sa.update(rows).where(rows.c.id == row_id).values(label=new))


def upgrade():
    _number_repeated_labels('participants')
    _number_repeated_labels('workshops')
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_participants_round_id_label'),
                                          ['round_id', 'label'])

    with op.batch_alter_table('workshops', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_workshops_round_id_label'),
                                          ['round_id', 'label'])


def downgrade():
    with op.batch_alter_table('workshops', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_workshops_round_id_label'), type_='unique')

    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_participants_round_id_label'), type_='unique')
