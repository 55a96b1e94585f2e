"""Rate limits for state-changing requests (HTTP 429 with a translated message).

Flask-Limiter's decorators, after the route and ``login_required``::

    @bp.route("/<slug>/vote", methods=["POST"])
    @login_required
    @vote_limit            # VOTE_RATE_LIMIT per account, shared by every vote view
    def cast(slug): ...

Only write methods count; a GET of the same view is never limited, except the public files
built on request (``download_limit``). The limits are read from the config at request
time, so tests and deployments can change them. If the rate-limit storage is unreachable,
requests go through unlimited (``RATELIMIT_SWALLOW_ERRORS``) instead of failing.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from flask_limiter.util import get_remote_address
from flask_login import current_user

from app.extensions import limiter

WRITE_METHODS = ["POST", "PUT", "PATCH", "DELETE"]


def account_or_address() -> str:
    """Key a limit on the account when logged in (shared across devices), else the address."""
    if current_user and current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"ip:{get_remote_address()}"


def config_limit(name: str) -> Callable[[], str]:
    """The limit in config setting ``name`` (e.g. "10 per minute"), read per request."""

    def provider() -> str:
        return current_app.config[name]

    return provider


post_limit = limiter.shared_limit(
    config_limit("POST_RATE_LIMIT"), scope="post", key_func=account_or_address,
    methods=WRITE_METHODS,
)
"""Proposals, reports and other posting: POST_RATE_LIMIT per account, shared by all views."""

vote_limit = limiter.shared_limit(
    config_limit("VOTE_RATE_LIMIT"), scope="vote", key_func=account_or_address,
    methods=WRITE_METHODS,
)
"""Votes: VOTE_RATE_LIMIT per account, shared by all vote views (web and API)."""

download_limit = limiter.shared_limit(
    config_limit("DOWNLOAD_RATE_LIMIT"), scope="download", key_func=account_or_address,
    methods=["GET"],
)
"""Public files built on request (a round's open data): DOWNLOAD_RATE_LIMIT per account,
else per address."""
