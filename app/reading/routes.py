"""The reader setting's page and the form that changes it (header button and page)."""

from __future__ import annotations

from flask import make_response, redirect, render_template, request, session
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth.routes import safe_next
from app.errors import render_error
from app.htmx import is_htmx
from app.reading import READING_LABELS, SESSION_KEY, bp, chosen_mode
from deliberation.models.user import READING_MODES
from deliberation.services import accounts


@bp.route("/reading")
def settings() -> str:
    return render_template("reading/settings.html", modes=READING_LABELS, chosen=chosen_mode(),
                           error=None)


@bp.route("/reading", methods=["POST"])
def choose() -> Response:
    choice = request.form.get("reading", "")
    if choice not in READING_MODES:
        error = _("Choose one of the ways of writing.")
        if is_htmx():  # the header's button or the page's form: say it where errors show
            return render_error(400, error)
        return make_response(
            render_template("reading/settings.html", modes=READING_LABELS, chosen=chosen_mode(),
                            error=error), 400)
    session[SESSION_KEY] = choice
    if current_user.is_authenticated:
        accounts.set_reading(current_user, choice)
    target = safe_next("reading.settings")
    if is_htmx():  # every text on the page changes: htmx loads the page again
        response = make_response("", 200)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, code=303)
