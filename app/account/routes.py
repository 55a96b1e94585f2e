"""The participant's own data: overview, JSON download, account deletion."""

from __future__ import annotations

import json

from flask import Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from app.account import bp
from app.account.forms import DeleteAccountForm
from deliberation.errors import DomainError
from deliberation.services import privacy


@bp.route("/")
@login_required
def index() -> str:
    return render_template("account/index.html", form=DeleteAccountForm())


@bp.route("/data.json")
@login_required
def download() -> Response:
    data = privacy.export_data(current_user)
    response = Response(
        json.dumps(data, ensure_ascii=False, indent=2), mimetype="application/json"
    )
    response.headers["Content-Disposition"] = 'attachment; filename="hiroba-my-data.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/delete", methods=["POST"])
@login_required
def delete() -> Response | tuple[str, int]:
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            privacy.delete_account(current_user._get_current_object(), form.password.data)
        except DomainError as error:
            form.password.errors.append(_(error.message))
        else:
            logout_user()
            flash(_("Your account has been deleted. Thank you for taking part."), "info")
            return redirect(url_for("main.index"), code=303)
    return render_template("account/index.html", form=form), 400
