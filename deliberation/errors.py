"""Domain errors. Views turn them into clear, translated messages.

A domain error carries an English message marked with ``N_`` (so that `pybabel extract`
puts it in the catalogs) and the values of its ``%(name)s`` placeholders as keyword
arguments; the view shows ``app.errors.translate(error)``, the message in the reader's
language. ``field`` (a form field's name) says where a form shows the message.
"""

from __future__ import annotations

import re

_PLACEHOLDER = re.compile(r"%\((\w+)\)")


def N_(message: str) -> str:
    """Mark ``message`` for translation where it is shown; returns it unchanged."""
    return message


class DomainError(Exception):
    """A request the domain refuses; ``code`` is stable, ``message`` is a msgid."""

    code = "invalid"
    http_status = 400

    def __init__(self, message: str, **context: object) -> None:
        self.message = message
        self.context = context
        super().__init__(self.english())

    @property
    def field(self) -> str | None:
        field = self.context.get("field")
        return str(field) if field else None

    @property
    def params(self) -> dict[str, object]:
        """The values of the message's placeholders."""
        return {name: self.context.get(name, "") for name in _PLACEHOLDER.findall(self.message)}

    def parts(self) -> list[tuple[str, dict[str, object]]]:
        """The message as (msgid, placeholder values) pieces shown one after the other."""
        return [(self.message, self.params)]

    def english(self) -> str:
        """The message in English (command line, logs)."""
        return "".join(msgid % params if params else msgid for msgid, params in self.parts())


class NotAllowed(DomainError):
    code = "not_allowed"
    http_status = 403


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class Conflict(DomainError):
    code = "conflict"
    http_status = 409
