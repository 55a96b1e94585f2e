"""proposal text search index (SQLite FTS5 trigram, PostgreSQL pg_trgm)

Revision ID: a3e1f7c20b94
Revises: 308cebe6f75f
Create Date: 2026-11-29 17:10:00

"""
from alembic import op

from deliberation.models.search_index import create_search_index, drop_search_index

# revision identifiers, used by Alembic.
revision = 'a3e1f7c20b94'
down_revision = '308cebe6f75f'
branch_labels = None
depends_on = None


def upgrade():
    create_search_index(op.get_bind())


def downgrade():
    drop_search_index(op.get_bind())
