"""The participant's own data: overview, JSON download, account deletion."""

from __future__ import annotations

import json

from flask import Response, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user

from app.account import bp
from app.account.forms import DeleteAccountForm
from deliberation.errors import DomainError
from deliberation.services import privacy

# Headings of the "every record" part of the data page; a table missing here is still
# shown, under its database name.
TABLE_LABELS = {
    "users": _l("Your account"),
    "participants": _l("Your participation in rounds"),
    "votes": _l("Your current votes"),
    "vote_events": _l("Every vote you cast or changed"),
    "proposals": _l("Proposals you wrote or moderated"),
    "reports": _l("Your reports"),
    "snapshot_memberships": _l("Your place on the opinion maps"),
    "agenda_answers_seen": _l("Council answers you have seen"),
    "audit_log": _l("Audit log entries about you or by you"),
    "rounds": _l("Rounds you created"),
    "escalations": _l("Agenda items you escalated or withdrew"),
    "official_responses": _l("Council responses you edited"),
    "mail_outbox": _l("E-mails sent to you"),
}


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


@bp.route("/data")
@login_required
def data_page() -> Response:
    """The same data as the download, as a readable page."""
    response = make_response(render_template(
        "account/data.html", data=privacy.export_data(current_user), tables=TABLE_LABELS))
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
