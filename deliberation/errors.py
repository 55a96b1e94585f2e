"""Domain errors. Views turn them into clear, translated messages."""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses; ``code`` is stable, ``message`` is for people."""

    code = "invalid"
    http_status = 400

    def __init__(self, message: str, **context: object) -> None:
        super().__init__(message)
        self.message = message
        self.context = context


class NotAllowed(DomainError):
    code = "not_allowed"
    http_status = 403


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class Conflict(DomainError):
    code = "conflict"
    http_status = 409
