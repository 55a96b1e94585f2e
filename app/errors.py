"""One error renderer for 400/403/404/405/413/429/500/503: HTML page, htmx fragment or JSON."""

from __future__ import annotations

from flask import Flask, jsonify, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from app.htmx import is_htmx
from deliberation.database import db
from deliberation.errors import DomainError

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please check what you entered.")),
    403: (_l("Not allowed"), _l("Your account does not have permission to see this page.")),
    404: (_l("Not found"), _l("There is no page at this address.")),
    405: (_l("Not allowed"), _l("This action is not possible here.")),
    409: (_l("Conflict"), _l("This conflicts with something that already exists.")),
    413: (_l("Too large"), _l("What you sent is too large.")),
    429: (_l("Too many requests"), _l("Too many attempts in a short time. Please wait a minute and try again.")),
    500: (_l("Something went wrong"), _l("An unexpected error happened. Nothing you entered was saved. Please try again.")),
    503: (_l("Temporarily unavailable"), _l("The service is temporarily unavailable. Please try again in a few minutes.")),
}


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not is_htmx()


def render_error(status: int, detail: str | None = None) -> Response:
    title, message = MESSAGES.get(status, MESSAGES[500])
    message = detail or message
    if wants_json():
        response = jsonify({"error": {"status": status, "title": str(title), "message": str(message)}})
    elif is_htmx():
        response = make_response(
            render_template("errors/_error.html", status=status, title=title, message=message)
        )
    else:
        response = make_response(
            render_template("errors/error.html", status=status, title=title, message=message)
        )
    response.status_code = status
    if is_htmx() and status == 401:
        response.headers["HX-Redirect"] = request.url
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        detail = getattr(error, "hiroba_detail", None)
        response = render_error(status if status in MESSAGES else 400, detail)
        response.status_code = status
        allow = dict(error.get_headers()).get("Allow")
        if allow:  # 405 must say which methods are allowed (RFC 9110)
            response.headers["Allow"] = allow
        if status == 429:  # app/ratelimits.py sets it on the error, Flask-Limiter on its response
            retry = dict(error.get_headers()).get("Retry-After") or (
                error.response.headers.get("Retry-After") if error.response is not None else None)
            if retry:
                response.headers["Retry-After"] = retry
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> Response:
        return render_error(
            400, str(_l("The form expired or was sent from elsewhere. Please reload the page and try again."))
        )

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> Response:
        return render_error(error.http_status, error.message)

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError) -> Response:
        db.session.rollback()
        app.logger.error("database error: %s", error)
        return render_error(503)

    @app.errorhandler(500)
    def internal_error(error: Exception) -> Response:
        db.session.rollback()
        return render_error(500)
