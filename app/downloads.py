"""File downloads: one Content-Type and Content-Disposition for every export."""

from __future__ import annotations

from flask import Response

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


def attachment(body: str | bytes, filename: str, content_type: str) -> Response:
    """``body`` as a download named ``filename`` (ASCII: slugs and fixed names only)."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    response = Response(data, content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def csv_attachment(text: str, filename: str) -> Response:
    return attachment(text, filename, CSV_CONTENT_TYPE)
