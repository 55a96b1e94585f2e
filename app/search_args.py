"""Search box and page number from the query string, the same way on every list."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import request
from flask_babel import gettext as _

from deliberation.services import search

MAX_PAGE = 100_000


@dataclass
class SearchArgs:
    q: str  # as typed, for the search box
    terms: list[str] = field(default_factory=list)
    error: str | None = None  # translated, shown next to the results
    page: int = 1


def search_args() -> SearchArgs:
    """``q`` split into terms (an over-long query is ignored with a message) and ``page``
    bounded to 1..MAX_PAGE (anything that is not a number is page 1)."""
    q = request.args.get("q", "")
    args = SearchArgs(q=q[: search.MAX_QUERY_LENGTH * 2])
    try:
        args.terms = search.terms_of(q)
    except search.QueryTooLong:
        args.error = _("Please shorten your search to %(max)d characters or fewer.",
                       max=search.MAX_QUERY_LENGTH)
    args.page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
    return args
