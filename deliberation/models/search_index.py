"""Full-text index over proposal texts that finds Japanese words in the middle of a text.

Japanese has no spaces between words, so word tokenizers find nothing; both databases
index character trigrams instead:

- SQLite: an external-content FTS5 table with the ``trigram`` tokenizer, kept in step
  with ``proposals`` by triggers (the text lives only once, in ``proposals``).
- PostgreSQL: a ``pg_trgm`` GIN index on ``proposals.text``, which ``ILIKE '%...%'``
  uses directly.

The same DDL runs from the Alembic migration and after ``create_all()`` (tests), so the
two never drift. Neither object is part of the SQLAlchemy metadata: ``migrations/env.py``
leaves them out of autogenerate through ``include_object``.
"""

from __future__ import annotations

import sqlalchemy as sa

FTS_TABLE = "proposals_fts"
PG_INDEX = "ix_proposals_text_trgm"

_SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS proposals_fts USING fts5("
    "text, content='proposals', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS proposals_fts_insert AFTER INSERT ON proposals BEGIN "
    "INSERT INTO proposals_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER IF NOT EXISTS proposals_fts_delete AFTER DELETE ON proposals BEGIN "
    "INSERT INTO proposals_fts(proposals_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER IF NOT EXISTS proposals_fts_update AFTER UPDATE OF text ON proposals BEGIN "
    "INSERT INTO proposals_fts(proposals_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO proposals_fts(rowid, text) VALUES (new.id, new.text); END",
    # Index what is already there (a no-op on an empty table).
    "INSERT INTO proposals_fts(proposals_fts) VALUES ('rebuild')",
)
_SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS proposals_fts_insert",
    "DROP TRIGGER IF EXISTS proposals_fts_delete",
    "DROP TRIGGER IF EXISTS proposals_fts_update",
    "DROP TABLE IF EXISTS proposals_fts",
)
_PG_CREATE = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS ix_proposals_text_trgm ON proposals USING gin (text gin_trgm_ops)",
)
_PG_DROP = ("DROP INDEX IF EXISTS ix_proposals_text_trgm",)


def create_search_index(connection: sa.Connection) -> None:
    """Create the proposal text index for the connection's database."""
    statements = {"sqlite": _SQLITE_CREATE, "postgresql": _PG_CREATE}.get(connection.dialect.name, ())
    for statement in statements:
        connection.execute(sa.text(statement))


def drop_search_index(connection: sa.Connection) -> None:
    statements = {"sqlite": _SQLITE_DROP, "postgresql": _PG_DROP}.get(connection.dialect.name, ())
    for statement in statements:
        connection.execute(sa.text(statement))


def is_search_index_object(name: str | None) -> bool:
    """True for the tables and indexes above (and FTS5's shadow tables)."""
    return bool(name) and (name.startswith(FTS_TABLE) or name == PG_INDEX)


def register(table: sa.Table) -> None:
    """Create the index whenever ``create_all()`` creates ``table`` (tests, dev)."""
    sa.event.listen(table, "after_create", lambda target, connection, **kw: create_search_index(connection))
    sa.event.listen(table, "before_drop", lambda target, connection, **kw: drop_search_index(connection))
