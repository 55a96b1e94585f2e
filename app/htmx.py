"""Small helpers for htmx: fragment-or-page rendering."""

from __future__ import annotations

from typing import Any

from flask import make_response, render_template, request
from werkzeug.wrappers import Response


def is_htmx() -> bool:
    """An htmx request that swaps part of the page. Not htmx restoring a page from history
    (Back after a search that put its address in the history; the pages keep no history
    cache): it puts the answer in place of the whole body, which needs the whole page."""
    return request.headers.get("HX-Request") == "true" \
        and request.headers.get("HX-History-Restore-Request") != "true"


def render_page_or_fragment(page: str, fragment: str, status: int = 200, **context: Any) -> Response:
    """The fragment for htmx requests, the whole page otherwise (works without JS)."""
    template = fragment if is_htmx() else page
    response = make_response(render_template(template, **context), status)
    response.headers.add("Vary", "HX-Request, HX-History-Restore-Request")
    return response
