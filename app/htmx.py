"""Small helpers for htmx: fragment-or-page rendering."""

from __future__ import annotations

from typing import Any

from flask import make_response, render_template, request
from werkzeug.wrappers import Response


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def render_page_or_fragment(page: str, fragment: str, status: int = 200, **context: Any) -> Response:
    """The fragment for htmx requests, the whole page otherwise (works without JS)."""
    template = fragment if is_htmx() else page
    response = make_response(render_template(template, **context), status)
    response.headers.add("Vary", "HX-Request")
    return response
