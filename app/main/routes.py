"""Home page, language switch, privacy page."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app, redirect, render_template, request, session
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth.routes import safe_next
from app.i18n import SESSION_KEY
from app.main import bp
from app.privacy_notice import data_items, not_collected
from deliberation.database import db
from deliberation.models import Round
from deliberation.services import accounts, results


@bp.route("/")
def index() -> str:
    rounds = db.session.scalars(
        sa.select(Round).where(Round.phase != "draft").order_by(Round.created_at.desc())
    ).all()
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


@bp.route("/privacy")
def privacy() -> str:
    return render_template(
        "main/privacy.html",
        data_items=data_items(),
        not_collected=not_collected(),
        consent_version=current_app.config["CONSENT_VERSION"],
    )
