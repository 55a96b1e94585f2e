"""One error renderer for 400/403/404/405/413/429/500/503: HTML page, htmx fragment or JSON.

500 and the 503 of a database outage are rendered without the database (app/outage.py):
the usual page layout reads the logged-in account, which would fail again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from flask import (
    Flask,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError, generate_csrf
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from app import outage
from app.drafts import keep_draft
from app.htmx import is_htmx
from app.template_helpers import page_address
from deliberation.database import db
from deliberation.errors import DomainError
from deliberation.ids import parse_id

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please check what you entered.")),
    403: (_l("Not allowed"), _l("Your account does not have permission to see this page.")),
    404: (_l("Not found"), _l("There is no page at this address.")),
    405: (_l("Not allowed"), _l("This action is not possible here.")),
    409: (_l("Conflict"), _l("This conflicts with something that already exists.")),
    413: (_l("Too large"), _l("What you sent is too large.")),
    414: (_l("Address too long"), _l("The address (URL) is too long. Please go back and "
                                     "open the page from a link or the menu.")),
    429: (_l("Too many requests"), _l("Too many attempts in a short time. Please wait a minute and try again.")),
    500: (_l("Something went wrong"), _l("An unexpected error happened. Nothing you entered was saved. Please try again.")),
    503: (_l("Temporarily unavailable"), _l("The service is temporarily unavailable. Please try again in a few minutes.")),
}


def translate(error: DomainError) -> str:
    """A domain error's message in the request's language."""
    return translate_parts(error.parts())


def translate_parts(parts: Iterable[Sequence[Any]]) -> str:
    """A message stored as a domain error's (msgid, placeholder values) pieces."""
    return "".join(gettext(msgid, **params) if params else gettext(msgid)
                   for msgid, params in parts)


def attach_to_form(form: object, error: DomainError) -> None:
    """Show a domain error under the form field it names, or as a flash message."""
    target = getattr(form, error.field, None) if error.field else None
    if target is not None and hasattr(target, "errors"):
        target.errors = [*list(target.errors), translate(error)]
    else:
        flash(translate(error), "error")


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not is_htmx()


def render_error(status: int, detail: str | None = None, heading: str | None = None,
                 back: str | None = None) -> Response:
    """The error as JSON, an htmx fragment or a page; ``back``, on the page, links to where
    the person can try again."""
    title, message = MESSAGES.get(status, MESSAGES[500])
    message = detail or message
    title = heading or title
    if wants_json():
        response = jsonify({"error": {"status": status, "title": str(title), "message": str(message)}})
    elif is_htmx():
        response = make_response(
            render_template("errors/_error.html", status=status, title=title, message=message)
        )
    else:
        response = make_response(render_template(
            "errors/error.html", status=status, title=title, message=message, back=back))
    response.status_code = status
    if is_htmx():
        # static/js/hiroba.js swaps error responses; a generic error goes to the page's
        # error region instead of replacing the part of the page that asked.
        response.headers["HX-Retarget"] = "#htmx-errors"
        response.headers["HX-Reswap"] = "innerHTML"
    if is_htmx() and status == 401:
        response.headers["HX-Redirect"] = request.url
    return response


VOTE_LABELS = {"1": _l("Agree"), "-1": _l("Disagree"), "0": _l("Pass / unsure")}


def _render_without_database(template: str, **context: Any) -> str:
    """A template rendered without context processors (Flask-Login's loads the account)."""
    context.setdefault("current_locale", str(get_locale() or "ja"))
    return current_app.jinja_env.get_template(template).render(context)


def _vote_to_retry() -> dict[str, Any] | None:
    """The vote this request tried to save, to offer sending it again (the vote form only)."""
    if request.endpoint != "rounds.cast" or request.method != "POST":
        return None
    proposal_id, value = parse_id(request.form.get("proposal_id")), request.form.get("value")
    if proposal_id is None or value not in VOTE_LABELS:
        return None
    try:
        token = generate_csrf()  # from the session's secret: no database
    except Exception:
        token = ""
    return {"action": request.path, "proposal_id": proposal_id, "value": value,
            "label": VOTE_LABELS[value], "back": request.form.get("back", ""),
            "csrf_token": token}


def _same_site_referrer() -> str | None:
    referrer = request.referrer or ""
    return referrer if referrer.startswith(request.host_url) else None


def render_without_database(status: int) -> Response:
    """The 500 or 503 answer: JSON, an htmx fragment or a page, without any query."""
    title, message = MESSAGES[status]
    retry = _vote_to_retry() if status == 503 else None
    if wants_json():
        response = jsonify({"error": {"status": status, "title": str(title),
                                      "message": str(message)}})
    elif is_htmx() and retry is not None:
        # Shown inside the vote card, which keeps its proposal and buttons.
        response = make_response(_render_without_database(
            "rounds/_vote_retry.html", retry=retry, title=title))
        response.headers["HX-Retarget"] = "#vote-card-problem"
        response.headers["HX-Reswap"] = "innerHTML"
    elif is_htmx():
        response = make_response(_render_without_database(
            "errors/_error.html", status=status, title=title, message=message))
    else:
        response = make_response(_render_without_database(
            "errors/standalone.html", status=status, title=title, message=message,
            retry=retry, back=_same_site_referrer()))
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    response.headers.add("Vary", "HX-Request")
    if status == 503:
        response.headers["Retry-After"] = str(current_app.config.get("OUTAGE_RETRY_AFTER", 5))
    return response


# Forms that someone who is not logged in sends; every other form needs a login.
ANONYMOUS_FORMS = frozenset({"reading.choose", "agenda.mark_seen", "main.set_language",
                             "account.confirm_email_change"})


def _login_ended() -> bool:
    """Whether a refused form came from a page whose login has ended since it was opened
    (the session cookie expired with the form's token): logging in again is the way on,
    not reloading a page that would ask for a login anyway."""
    return (not wants_json() and request.endpoint is not None
            and request.blueprint != "auth" and request.endpoint not in ANONYMOUS_FORMS
            and not current_user.is_authenticated)


def _log_in_again() -> Response:
    flash(gettext("The page was open for a long time and your login ended, so what you sent "
                  "was not saved. Please log in again."), "error")
    keep_draft()
    login_url = url_for("auth.login", next=page_address())
    if is_htmx():  # the whole page goes to the login form, as for any page needing a login
        response = Response(status=204)
        response.headers["HX-Redirect"] = login_url
        return response
    return redirect(login_url, code=303)


def _discard_transaction() -> None:
    try:
        db.session.rollback()
    except Exception:
        current_app.logger.debug("rollback failed", exc_info=True)


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        if status == 429 and isinstance(error.response, Response) \
                and error.response.status_code == 429:
            return error.response  # the refused form itself, as typed (app/auth/limits.py)
        detail = getattr(error, "hiroba_detail", None)
        response = render_error(status if status in MESSAGES else 400, detail)
        response.status_code = status
        allow = dict(error.get_headers()).get("Allow")
        if allow:  # 405 must say which methods are allowed (RFC 9110)
            response.headers["Allow"] = allow
        if status == 429:  # Flask-Limiter puts it on the error's response
            retry = dict(error.get_headers()).get("Retry-After") or (
                error.response.headers.get("Retry-After") if error.response is not None else None)
            if retry:
                response.headers["Retry-After"] = retry
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> Response:
        if _login_ended():
            return _log_in_again()
        heading = gettext("The page expired")
        if is_htmx():  # the page itself is there to reload
            return render_error(400, gettext("The form expired or was sent from elsewhere. "
                                             "Please reload the page and try again."),
                                heading=heading)
        # Reloading this answer would send the same expired form again: the way on is the
        # page the form is on, opened anew.
        back = page_address()
        return render_error(400, gettext("The page was open for a long time, or the form was "
                                         "sent from another site, so nothing was saved. Open "
                                         "the page again and try once more."),
                            heading=heading, back=back if back != "/" else None)

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> Response:
        return render_error(error.http_status, translate(error))

    def database_unavailable(error: Exception) -> Response:
        outage.mark()
        _discard_transaction()
        app.logger.error("database unavailable: %s", error)
        return render_without_database(503)

    for error_class in outage.UNAVAILABLE:
        app.register_error_handler(error_class, database_unavailable)

    @app.errorhandler(500)
    def internal_error(error: Exception) -> Response:
        original = getattr(error, "original_exception", None)
        if outage.is_unavailable_error(original):  # raised while rendering another error
            return database_unavailable(original)
        outage.mark()  # whatever failed, the error page does not touch the database
        _discard_transaction()
        return render_without_database(500)
