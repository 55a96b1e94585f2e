"""one unfinished Pol.is import per address

The same upload sent twice at once (a double click) passed the "address free" check twice
and queued two jobs: one imported, the other failed and was shown to the facilitator. A
partial unique index on the unfinished jobs' address now decides. Should a database hold
such twins already, the later ones are marked failed with the message the second upload
gets now (the import worker deletes their stored files, as for any finished job).

Revision ID: 5c0d2b7e9a41
Revises: 320a6d3db7ff
Create Date: 2026-11-30 15:10:00.000000

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c0d2b7e9a41'
down_revision = '320a6d3db7ff'
branch_labels = None
depends_on = None

UNFINISHED = "stage IN ('queued', 'reading', 'writing')"


def upgrade():
    jobs = sa.table('import_jobs', sa.column('id', sa.Integer), sa.column('slug', sa.String),
                    sa.column('stage', sa.String), sa.column('error', sa.JSON),
                    sa.column('finished_at', sa.DateTime(timezone=True)))
    unfinished = jobs.c.stage.in_(('queued', 'reading', 'writing'))
    first = sa.select(sa.func.min(jobs.c.id)).where(unfinished).group_by(jobs.c.slug)
    op.get_bind().execute(
        sa.update(jobs).where(unfinished, jobs.c.id.not_in(first)).values(
            stage='failed', error=[["A round with this address already exists.", {}]],
            finished_at=datetime.now(timezone.utc)))
    op.create_index('ux_import_jobs_unfinished_slug', 'import_jobs', ['slug'], unique=True,
                    postgresql_where=sa.text(UNFINISHED), sqlite_where=sa.text(UNFINISHED))


def downgrade():
    op.drop_index('ux_import_jobs_unfinished_slug', table_name='import_jobs',
                  postgresql_where=sa.text(UNFINISHED), sqlite_where=sa.text(UNFINISHED))
