"""Resident verification by town staff (council and admin roles): verify an account at
the counter after seeing an identity document, and generate postal codes for a mail merge.
"""

from __future__ import annotations

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.authz import council_required
from app.downloads import csv_attachment, excel_csv, local_time
from app.errors import translate
from app.verify import bp
from app.verify.forms import DOCUMENT_LABELS, CounterForm, PostalCodesForm, RevokeForm
from deliberation.database import db
from deliberation.errors import DomainError
from deliberation.models import User
from deliberation.services import verification


def _user_or_404(user_id: int) -> User:
    user = db.get_or_404(User, user_id)
    if user.deleted_at is not None:
        from flask import abort

        abort(404)
    return user


@bp.route("/")
@council_required
def index() -> str:
    query = (request.args.get("q") or "").strip()
    found = verification.search_accounts(query) if query else []
    return render_template("verify/index.html", query=query, found=found,
                           level_of=verification.level_of, counter_form=CounterForm(),
                           revoke_form=RevokeForm(), documents=DOCUMENT_LABELS)


@bp.route("/users/<id:user_id>")
@council_required
def account(user_id: int) -> str:
    user = _user_or_404(user_id)
    return render_template("verify/account.html", user=user,
                           level=verification.level_of(user),
                           history=verification.history(user), counter_form=CounterForm(),
                           revoke_form=RevokeForm(), documents=DOCUMENT_LABELS)


@bp.route("/users/<id:user_id>/counter", methods=["POST"])
@council_required
def counter(user_id: int) -> Response | tuple[str, int]:
    user = _user_or_404(user_id)
    form = CounterForm()
    status = 400
    if form.validate_on_submit():
        try:
            verification.verify_at_counter(user, actor=current_user, document=form.document.data,
                                           number=form.number.data,
                                           secret=current_app.config["SECRET_KEY"])
        except DomainError as error:
            if error.field != "number":
                flash(translate(error), "error")
                return redirect(url_for("verify.account", user_id=user.id), code=303)
            # the number stays in the form, to be corrected, never in the page's address
            form.number.errors = [translate(error)]
            status = error.http_status
        else:
            flash(_("%(name)s is now verified as a resident.", name=user.display_name),
                  "success")
            return redirect(url_for("verify.account", user_id=user.id), code=303)
    return render_template("verify/account.html", user=user, level=verification.level_of(user),
                           history=verification.history(user), counter_form=form,
                           revoke_form=RevokeForm(), documents=DOCUMENT_LABELS), status


@bp.route("/users/<id:user_id>/revoke", methods=["POST"])
@council_required
def revoke(user_id: int) -> Response | tuple[str, int]:
    user = _user_or_404(user_id)
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            verification.revoke(user, actor=current_user, reason=form.reason.data)
        except DomainError as error:
            flash(translate(error), "error")
        else:
            flash(_("The verification was revoked."), "success")
        return redirect(url_for("verify.account", user_id=user.id), code=303)
    return render_template("verify/account.html", user=user, level=verification.level_of(user),
                           history=verification.history(user), counter_form=CounterForm(),
                           revoke_form=form, documents=DOCUMENT_LABELS), 400


# The mail-merge file: one row per letter; the merge fields are these headers.
CODE_COLUMNS = (
    ("code", _l("Verification code")),
    ("expires", _l("Valid until (Japan time)")),
    ("batch", _l("Batch")),
)


def _codes_csv(generated: verification.GeneratedCodes) -> str:
    expires = local_time(generated.expires_at)
    return excel_csv(CODE_COLUMNS, ({"code": verification.format_code(code), "expires": expires,
                                     "batch": generated.batch} for code in generated.codes))


@bp.route("/postal-codes", methods=["GET", "POST"])
@council_required
def postal_codes() -> Response | tuple[str, int]:
    form = PostalCodesForm()
    status = 200
    if form.validate_on_submit():
        try:
            generated = verification.generate_postal_codes(
                form.count.data, valid_days=form.valid_days.data, batch=form.batch.data,
                actor=current_user)
        except DomainError as error:
            form.batch.errors = [translate(error)]
            status = 400
        else:
            return csv_attachment(_codes_csv(generated), "hiroba-postal-codes.csv")
    elif request.method == "POST":
        status = 400
    return render_template("verify/postal_codes.html", form=form,
                           batches=verification.postal_batches()), status
