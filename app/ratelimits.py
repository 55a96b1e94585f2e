"""Reusable rate limits for state-changing routes (HTTP 429 with a translated message).

Use on views that post, report or vote (after the route decorator)::

    from app.ratelimits import post_limit, vote_limit

    @bp.route("/rounds/<slug>/proposals", methods=["GET", "POST"])
    @post_limit            # POST_RATE_LIMIT, per account (per IP when logged out)
    def propose(slug): ...

    @bp.route("/rounds/<slug>/proposals/<id:proposal_id>/vote", methods=["POST"])
    @vote_limit            # VOTE_RATE_LIMIT
    def vote(slug, proposal_id): ...

Only POST/PUT/PATCH/DELETE requests count; GET of the same view is never limited.
The limits are read from the config at request time, so tests and deployments can change them.

``post_limit`` and ``vote_limit`` are checked with the rate limiter and storage that
Flask-Limiter holds (``limiter.limiter``: the strategy and ``RATELIMIT_STORAGE_URI`` of the
app, emptied by ``limiter.reset()``, off with ``RATELIMIT_ENABLED``), not through
Flask-Limiter's decorators: their machinery (resolving limits, exemption scopes, the
request context, headers) cost 0.65 M instructions per vote, 8% of all (callgrind,
``bench/vote_instructions.py``; issue 7). The responses are the same: 429 with
``Retry-After``, and with ``RATELIMIT_HEADERS_ENABLED`` the ``X-RateLimit-Limit``,
``-Remaining`` and ``-Reset`` headers. Login and registration keep Flask-Limiter's.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from typing import Any

import limits
from flask import Response, current_app, make_response, request
from flask_limiter.util import get_remote_address
from flask_login import current_user
from werkzeug.exceptions import TooManyRequests

from app.extensions import limiter

WRITE_METHODS = ["POST", "PUT", "PATCH", "DELETE"]


def account_or_address() -> str:
    """Key a limit on the account when logged in (shared across devices), else the address."""
    if current_user and current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"ip:{get_remote_address()}"


def submitted_email() -> str:
    """Key for login throttling per account: the submitted email, normalised."""
    email = (request.form.get("email") or "").strip().lower()
    return f"email:{email}" if email else f"ip:{get_remote_address()}"


def _config_limit(name: str) -> Callable[[], str]:
    def provider() -> str:
        return current_app.config[name]

    return provider


@functools.lru_cache(maxsize=32)
def _parsed(limit: str) -> tuple[limits.RateLimitItem, ...]:
    return tuple(limits.parse_many(limit))


def account_limit(config_name: str, scope: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Limit the write requests of a view to ``config_name`` (e.g. "10 per minute") per
    account, per address when logged out, counted together for every view with ``scope``."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def limited(*args: Any, **kwargs: Any) -> Any:
            if request.method not in WRITE_METHODS or not limiter.enabled:
                return view(*args, **kwargs)
            items = _parsed(current_app.config[config_name])
            key = account_or_address()
            prefix = current_app.config.get("RATELIMIT_KEY_PREFIX")  # as Flask-Limiter's keys
            identifiers = (prefix, key, scope) if prefix else (key, scope)
            for item in items:
                if not limiter.limiter.hit(item, *identifiers):
                    raise TooManyRequests(retry_after=_seconds_to_reset(item, identifiers))
            response = make_response(view(*args, **kwargs))
            if current_app.config["RATELIMIT_HEADERS_ENABLED"]:
                _add_headers(response, items[0], identifiers)
            return response

        return limited

    return decorate


def _seconds_to_reset(item: limits.RateLimitItem, identifiers: tuple[str, ...]) -> int:
    reset_at = limiter.limiter.get_window_stats(item, *identifiers).reset_time
    return max(1, math.ceil(reset_at - time.time()))


def _add_headers(response: Response, item: limits.RateLimitItem,
                 identifiers: tuple[str, ...]) -> None:
    stats = limiter.limiter.get_window_stats(item, *identifiers)
    response.headers["X-RateLimit-Limit"] = str(item.amount)
    response.headers["X-RateLimit-Remaining"] = str(stats.remaining)
    response.headers["X-RateLimit-Reset"] = str(math.ceil(stats.reset_time))


post_limit = account_limit("POST_RATE_LIMIT", "post")
"""Proposals, reports and other posting: POST_RATE_LIMIT per account, shared by all views."""

vote_limit = account_limit("VOTE_RATE_LIMIT", "vote")
"""Votes: VOTE_RATE_LIMIT per account, shared by all vote views (web and API)."""
