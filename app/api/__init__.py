"""The open API: read-only JSON for rounds, proposals, results and the agenda; voting and
proposing for logged-in participants (session cookie + X-CSRFToken header)."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from app.api import routes  # noqa: E402,F401
