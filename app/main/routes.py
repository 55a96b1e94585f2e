"""Home page, language switch, privacy and terms pages, the town's logo, the favicon."""

from __future__ import annotations

from pathlib import Path

from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app import town
from app.auth.routes import safe_next
from app.i18n import SESSION_KEY
from app.main import bp
from app.privacy_notice import data_items, not_collected
from deliberation.database import db
from deliberation.models import Round
from deliberation.services import accounts, results, workshops
from deliberation.services.rounds import public_rounds


@bp.route("/")
def index() -> str:
    rounds = public_rounds()
    open_rounds = [r for r in rounds if r.phase != "closed"]
    closed_rounds = [r for r in rounds if r.phase == "closed"]
    counts = results.round_counts([r.id for r in rounds])
    return render_template("main/index.html", open_rounds=open_rounds, closed_rounds=closed_rounds,
                           counts=counts)


@bp.route("/language", methods=["POST"])
def set_language() -> Response:
    lang = request.form.get("lang", "")
    if lang not in current_app.config["LANGUAGES"]:
        abort(400)
    session[SESSION_KEY] = lang
    if current_user.is_authenticated:
        accounts.set_locale(current_user, lang)
    return redirect(safe_next(), code=303)


@bp.route("/how-it-works")
def how_it_works() -> str:
    return render_template("main/how_it_works.html")


@bp.route("/privacy")
def privacy() -> str:
    return render_template(
        "main/privacy.html",
        data_items=data_items(),
        not_collected=not_collected(),
        consent_version=current_app.config["CONSENT_VERSION"],
    )


@bp.route("/w/<code>")
def workshop_link(code: str) -> Response:
    """The link (and QR code) of a workshop: registration that skips the per-address limit
    while the workshop is open. Someone already logged in goes to the round."""
    workshop = workshops.find_open(code)
    if current_user.is_authenticated:
        round_ = db.session.get(Round, workshop.round_id) if workshop is not None else None
        if round_ is not None and round_.is_public:
            return redirect(url_for("rounds.show", slug=round_.slug), code=303)
        return redirect(url_for("main.index"), code=303)
    # An unknown or closed code still leads to the registration page, which says so. An
    # open one's round is where the person logs in to afterwards: the room came to vote on
    # it, not to look for it from the home page.
    normalised = workshops.normalise_code(code) or "-"
    round_ = db.session.get(Round, workshop.round_id) if workshop is not None else None
    next_page = url_for("rounds.show", slug=round_.slug) \
        if round_ is not None and round_.is_public else None
    return redirect(url_for("auth.register", workshop=normalised, next=next_page), code=303)


@bp.route("/terms")
def terms() -> str:
    return render_template("main/terms.html")


@bp.route("/town/logo")
def town_logo() -> Response:
    """The town's logo (a PNG, JPEG or WebP checked on upload, sent with its checked type)."""
    logo = town.logo()
    if logo is None:
        abort(404)
    response = Response(logo.data, content_type=logo.media_type)
    response.headers["Content-Disposition"] = "inline"
    # Links carry ?v=<version>: a new logo gets a new address, so it may be cached.
    response.headers["Cache-Control"] = ("public, max-age=31536000, immutable"
                                         if request.args.get("v") == logo.version
                                         else "no-cache")
    return response


@bp.route("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for /favicon.ico whatever the page says."""
    icon = Path(current_app.static_folder or "static") / "favicon.ico"
    response = Response(icon.read_bytes(), content_type="image/vnd.microsoft.icon")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
