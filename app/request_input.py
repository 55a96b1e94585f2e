"""What a request may carry before any view sees it.

- Ids in paths: the ``id`` URL converter (``/items/<id:escalation_id>``) matches only what
  ``deliberation.ids.parse_id`` accepts, so an id that cannot name a row is a 404 like any
  unknown address. Round addresses (``<slug>``) likewise must look like a slug.
- JSON bodies: at most ``JSON_MAX_BYTES`` and ``JSON_MAX_DEPTH`` levels of nesting, no
  ``NaN``/``Infinity``; anything else is a 400 with a translated message.
- Addresses: a query string over ``QUERY_MAX_BYTES`` (4 KiB: a long search with filters
  is about 1 KiB) is a 414 with a translated page, whichever server passed it on.
  gunicorn refuses a request line over 8 KiB itself (deploy/gunicorn.conf.py).
- Text: query strings and form bodies must be UTF-8. Werkzeug keeps undecodable bytes of a
  form as percent-escapes (and replaces them in multipart fields) rather than failing, so
  without this check the escapes would be stored as if someone had typed them.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Flask, abort, current_app, request
from flask import Request as FlaskRequest
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest
from werkzeug.routing import BaseConverter, ValidationError

from deliberation.ids import ID_PATTERN, parse_id
from deliberation.services.facilitation import SLUG_RE

JSON_MAX_BYTES = 64 * 1024
JSON_MAX_DEPTH = 20
QUERY_MAX_BYTES = 4 * 1024


class IdConverter(BaseConverter):
    """A row id in a path: 1 to 2**31 - 1 in ASCII digits; anything else does not match."""

    regex = ID_PATTERN

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValidationError()
        return number

    def to_url(self, value: Any) -> str:
        return str(int(value))


class JSONLimitError(ValueError):
    """A JSON text over the size or depth limit (a ValueError, as for any bad JSON)."""


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


def nesting_depth(data: bytes) -> int:
    """How deeply arrays and objects nest in ``data``, counted without parsing it (the
    parser recurses once per level and would fail with a RecursionError on deep input)."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub(b"", data)):
        if match.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


class LimitedJSONProvider(DefaultJSONProvider):
    """Flask's JSON with limits on what it reads (documented hook: ``app.json``)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        data = s.encode("utf-8") if isinstance(s, str) else bytes(s)
        max_bytes = current_app.config.get("JSON_MAX_BYTES", JSON_MAX_BYTES) if current_app \
            else JSON_MAX_BYTES
        if len(data) > max_bytes:
            raise JSONLimitError("too large")
        max_depth = current_app.config.get("JSON_MAX_DEPTH", JSON_MAX_DEPTH) if current_app \
            else JSON_MAX_DEPTH
        if nesting_depth(data) > max_depth:
            raise JSONLimitError("too deep")
        kwargs.setdefault("parse_constant", _refuse_constant)
        return json.loads(data.decode("utf-8"), **kwargs)


def bad_request(message: str) -> BadRequest:
    error = BadRequest(message)
    error.hiroba_detail = message  # app/errors.py shows it
    return error


class Request(FlaskRequest):
    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        if e is None:  # not sent as application/json
            raise bad_request(_("Send a JSON object."))
        if isinstance(e, JSONLimitError) and str(e) == "too large":
            raise bad_request(_("The JSON body is too large."))
        if isinstance(e, JSONLimitError):
            raise bad_request(_("The JSON body is nested too deeply."))
        raise bad_request(_("The body is not valid JSON."))


def _is_utf8(encoded: bytes) -> bool:
    try:
        unquote_to_bytes(encoded.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def refuse_long_query() -> None:
    """No view reads a query string longer than any link Hiroba makes."""
    if len(request.query_string) > current_app.config["QUERY_MAX_BYTES"]:
        abort(414)


def refuse_invalid_text() -> None:
    """Query strings and form fields that are not UTF-8 are refused, not stored escaped."""
    valid = _is_utf8(request.query_string)
    if valid and request.mimetype == "application/x-www-form-urlencoded":
        valid = _is_utf8(request.get_data(cache=True))  # the form parser reuses the cache
    elif valid and request.mimetype == "multipart/form-data":
        # Werkzeug replaces undecodable bytes of multipart fields with U+FFFD.
        valid = not any("\ufffd" in key or any("\ufffd" in v for v in values)
                        for key, values in request.form.lists())
    if not valid:
        raise bad_request(_("Some of the text you sent could not be read (it is not UTF-8). "
                            "Please check it and send it again."))


def check_slug(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """A round address that no round can have is a 404 before any query."""
    if values and isinstance(values.get("slug"), str) and not SLUG_RE.fullmatch(values["slug"]):
        abort(404)


def init_app(app: Flask) -> None:
    """Call before blueprints are registered (their rules use the converter) and before
    CSRFProtect (which reads the form)."""
    app.url_map.converters["id"] = IdConverter
    app.request_class = Request
    app.json = LimitedJSONProvider(app)
    app.config.setdefault("JSON_MAX_BYTES", JSON_MAX_BYTES)
    app.config.setdefault("JSON_MAX_DEPTH", JSON_MAX_DEPTH)
    app.config.setdefault("QUERY_MAX_BYTES", QUERY_MAX_BYTES)
    app.before_request(refuse_long_query)
    app.before_request(refuse_invalid_text)
    app.url_value_preprocessor(check_slug)
