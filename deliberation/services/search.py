"""Text search that works for Japanese on SQLite and PostgreSQL.

A query is split on whitespace into terms that must all appear (in any order, anywhere in
the text: Japanese words sit in the middle of sentences). Proposal texts have a trigram
index (see ``deliberation.models.search_index``): on SQLite, terms of three characters or
more go through the FTS5 trigram table; everything else, and every term on PostgreSQL
(where ``pg_trgm`` serves ``ILIKE`` from its GIN index), is a ``LIKE``/``ILIKE`` with the
wildcards of the term escaped, so ``%`` and ``_`` are searched for literally.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination

from deliberation.database import db
from deliberation.models.search_index import FTS_TABLE
from deliberation.text import clean_text

MAX_QUERY_LENGTH = 100
MAX_TERMS = 8
TRIGRAM = 3


class QueryTooLong(ValueError):
    """The query is longer than ``MAX_QUERY_LENGTH`` characters."""


def terms_of(query: str | None) -> list[str]:
    """The distinct search terms of ``query``, split on any whitespace (also 全角 spaces),
    without the control and format characters that stored texts never contain (and that
    PostgreSQL refuses in a query when one is a NUL)."""
    text = clean_text(query or "")
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryTooLong(text)
    terms: list[str] = []
    for term in text.split():
        if term not in terms:
            terms.append(term)
    return terms[:MAX_TERMS]


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(column: sa.ColumnElement, term: str) -> sa.ColumnElement[bool]:
    """``column`` contains ``term`` literally, ignoring case."""
    return column.ilike(f"%{_escape_like(term)}%", escape="\\")


def matches_all(columns: list[sa.ColumnElement], terms: list[str]) -> sa.ColumnElement[bool]:
    """Every term appears in at least one of ``columns``."""
    return sa.and_(sa.true(), *(sa.or_(*(contains(c, t) for c in columns)) for t in terms))


def proposal_text_matches(id_column: sa.ColumnElement, text_column: sa.ColumnElement,
                          terms: list[str], dialect: str) -> sa.ColumnElement[bool]:
    """Every term appears in the proposal text, using the trigram index of ``dialect``."""
    conditions = []
    for term in terms:
        if dialect == "sqlite" and len(term) >= TRIGRAM:
            phrase = '"' + term.replace('"', '""') + '"'  # one FTS5 string: no query syntax
            conditions.append(id_column.in_(
                sa.select(sa.literal_column("rowid")).select_from(sa.table(FTS_TABLE))
                .where(sa.literal_column(FTS_TABLE).op("MATCH")(phrase))))
        else:
            conditions.append(contains(text_column, term))
    return sa.and_(sa.true(), *conditions)


def page_of(query: sa.Select, page: int, per_page: int) -> Pagination:
    """One page of ``query``'s rows; a page past the end gives the last page."""
    result = db.paginate(query, page=page, per_page=per_page, error_out=False)
    if page > 1 and page > result.pages:
        result = db.paginate(query, page=max(result.pages, 1), per_page=per_page, error_out=False)
    return result
