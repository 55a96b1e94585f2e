"""`/healthz`: is the database reachable, and how fresh are the open rounds' snapshots."""

from __future__ import annotations

from flask import jsonify
from werkzeug.wrappers import Response

from app.extensions import csrf, limiter
from app.health import bp
from deliberation.services import health


@bp.route("/healthz")
@limiter.exempt
@csrf.exempt
def healthz() -> tuple[Response, int]:
    """Public JSON for monitoring: 200 when the database answers, 503 when it does not."""
    report = health.report()
    response = jsonify(report)
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if report["database"] == "ok" else 503
