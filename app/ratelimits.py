"""Reusable rate limits for state-changing routes (HTTP 429 with a translated message).

Use on views that post, report or vote (after the route decorator)::

    from app.ratelimits import post_limit, vote_limit

    @bp.route("/rounds/<slug>/proposals", methods=["GET", "POST"])
    @post_limit            # POST_RATE_LIMIT, per account (per IP when logged out)
    def propose(slug): ...

    @bp.route("/rounds/<slug>/proposals/<int:proposal_id>/vote", methods=["POST"])
    @vote_limit            # VOTE_RATE_LIMIT
    def vote(slug, proposal_id): ...

Only POST/PUT/PATCH/DELETE requests count; GET of the same view is never limited.
The limits are read from the config at request time, so tests and deployments can change them.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, request
from flask_limiter.util import get_remote_address
from flask_login import current_user

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


post_limit = limiter.shared_limit(
    _config_limit("POST_RATE_LIMIT"), "post", key_func=account_or_address, methods=WRITE_METHODS
)
"""Proposals, reports and other posting: POST_RATE_LIMIT per account, shared by all views."""

vote_limit = limiter.shared_limit(
    _config_limit("VOTE_RATE_LIMIT"), "vote", key_func=account_or_address, methods=WRITE_METHODS
)
"""Votes: VOTE_RATE_LIMIT per account, shared by all vote views (web and API)."""

login_account_limit = limiter.limit(
    _config_limit("LOGIN_RATE_LIMIT"), key_func=submitted_email, methods=["POST"],
    scope="account",
)
"""Login throttling per submitted email address, on top of the per-address limit."""
