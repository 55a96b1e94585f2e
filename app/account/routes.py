"""The participant's own data (overview, JSON download, account deletion) and the
account's verification as a resident (postal code, national-ID app)."""

from __future__ import annotations

import json
import secrets

from flask import (
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user

from app.account import bp, records
from app.account.forms import (
    DeleteAccountForm,
    EmailChangeForm,
    NotificationsForm,
    PostalCodeForm,
    UnsubscribeForm,
)
from app.auth.limits import password_reentry_limit
from app.auth.session import signed_in_user
from app.errors import attach_to_form, render_error, translate
from app.extensions import csrf
from app.mail import external_url, make_token, queue_mail, read_token, token_account
from app.ratelimits import post_limit
from deliberation.database import db
from deliberation.errors import DomainError
from deliberation.models import User
from deliberation.services import accounts, privacy, verification
from deliberation.services import mail as outbox
from deliberation.services.national_id import NationalIdError, NationalIdVerifier, load_verifier

# Column headings of the readable sections of the data page.
COLUMN_LABELS = {
    "round": _l("Round"), "proposal_id": _l("Proposal number"),
    "proposal_text": _l("Proposal"), "value": _l("Your vote"),
    "voted_at": _l("Voted at"), "source": _l("How"), "at": _l("When"),
    "id": _l("Number"), "text": _l("Text"), "status": _l("Status"),
    "rejection_reason": _l("Moderator's reason"), "moderated_at": _l("Moderated at"),
    "created_at": _l("Created at"), "reason": _l("Reason"), "resolution": _l("Outcome"),
    "agenda_item": _l("Agenda item"), "answered_at": _l("Answered at"),
    "seen_at": _l("Seen at"), "action": _l("Action"), "by_you": _l("By you"),
    "target": _l("About"),
    "email": _l("Email address"), "display_name": _l("Display name"), "role": _l("Role"),
    "kind": _l("Relation to the town"), "verification_level": _l("Verification"),
    "consented_at": _l("Consent given"),
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
    data = privacy.export_data(current_user)
    response = make_response(render_template(
        "account/data.html", data=data, tables=records.TABLE_LABELS, columns=COLUMN_LABELS,
        record_columns=records.labels_for(data["records"]), record_value=records.cell,
        readable_value=records.readable))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/delete", methods=["POST"])
@login_required
@password_reentry_limit
def delete() -> Response | tuple[str, int]:
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            privacy.delete_account(signed_in_user(), form.password.data)
        except DomainError as error:
            attach_to_form(form, error)
        else:
            logout_user()
            flash(_("Your account has been deleted. Thank you for taking part."), "info")
            return redirect(url_for("main.index"), code=303)
    return render_template("account/index.html", form=form), 400


@bp.route("/email", methods=["GET", "POST"])
@login_required
@password_reentry_limit
def change_email() -> Response | tuple[str, int] | str:
    """A new address takes effect only once the link mailed to it is opened. The answer
    is the same when the address belongs to another account (its owner is told)."""
    form = EmailChangeForm()
    user: User = signed_in_user()
    if form.validate_on_submit():
        try:
            holder = accounts.check_email_change(user, form.password.data, form.email.data)
        except DomainError as error:
            attach_to_form(form, error)
        else:
            new_email = accounts.normalise_email(form.email.data)
            if holder is None:
                token = make_token("change-email", {"u": user.id, "o": user.email,
                                                    "n": new_email})
                queue_mail(to=new_email, purpose="change_email", template="change_email",
                           subject=lambda: _l("Please confirm your new email address"),
                           locale=user.locale, user=user,
                           link=external_url("account.confirm_email_change", token=token))
            elif not outbox.is_suppressed(new_email, secret=current_app.secret_key):
                queue_mail(to=new_email, purpose="address_taken", template="address_taken",
                           subject=lambda: _l("Someone tried to use your email address"),
                           locale=holder.locale, user=holder)
            queue_mail(to=user.email, purpose="email_change_requested",
                       template="email_change_requested",
                       subject=lambda: _l("A change of your email address was requested"),
                       locale=user.locale, user=user,
                       reset_link=external_url("auth.reset_request"))
            db.session.commit()
            return redirect(url_for("auth.check_mail", reason="email"), code=303)
    status = 400 if form.is_submitted() else 200
    return render_template("account/email.html", form=form), status


@bp.route("/email/confirm/<token>", methods=["GET", "POST"])
def confirm_email_change(token: str) -> Response | tuple[str, int] | str:
    from app.auth.forms import ConfirmForm

    payload = read_token("change-email", token,
                         max_age=current_app.config["CONFIRM_EMAIL_MAX_AGE"])
    if payload is None:
        return render_template("auth/link_invalid.html"), 400
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            accounts.change_email(token_account(payload), str(payload.get("o")), str(payload.get("n")))
        except DomainError as error:
            db.session.rollback()
            return render_template("auth/link_invalid.html", message=translate(error)), 400
        flash(_("Your email address has been changed."), "success")
        return redirect(url_for("main.index"), code=303)
    return render_template("auth/confirm.html", form=form, change=True)


@bp.route("/notifications", methods=["POST"])
@login_required
def notifications() -> Response:
    form = NotificationsForm()
    if not form.validate_on_submit():
        return render_error(400, _("The form could not be read. Please try again."))
    accounts.set_notifications(signed_in_user(),
                               council_answers=form.council_answers.data,
                               own_proposals=form.own_proposals.data)
    flash(_("Your mail settings have been saved."), "success")
    return redirect(url_for("auth.change_password"), code=303)


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the credential; mail clients post here (RFC 8058)
def unsubscribe(token: str) -> Response | tuple[str, int] | str:
    payload = read_token("unsubscribe", token, max_age=None)
    address = payload.get("a") if payload else None
    if not isinstance(address, str) or not address:
        # A stop link never expires: one that fails was cut or changed on its way, most
        # often a long link that a mail program broke in two.
        return render_template("auth/link_invalid.html", stop_mails=True, message=_(
            "This link to stop mails is incomplete or altered: some mail programs break "
            "a long link in two. Open it again with the whole link, or log in and turn "
            "the mails off in your account.")), 400
    form = UnsubscribeForm(meta={"csrf": False})
    if form.is_submitted():
        accounts.stop_notifications(address)
        outbox.suppress(address, secret=current_app.secret_key)
        db.session.commit()
        return render_template("account/unsubscribed.html")
    return render_template("account/unsubscribe.html", form=form)
# --------------------------------------------------------------------------- verification


def _national_id_verifier() -> NationalIdVerifier | None:
    return load_verifier(current_app.config.get("NATIONAL_ID_VERIFIER"))


def _verification_page(form: PostalCodeForm, status: int = 200) -> tuple[str, int]:
    verifier = _national_id_verifier()
    user = signed_in_user()
    return render_template(
        "account/verification.html", form=form, level=verification.level_of(user),
        history=verification.history(user), national_id_name=verifier.name if verifier else None,
    ), status


@bp.route("/verification")
@login_required
def verification_page() -> tuple[str, int]:
    return _verification_page(PostalCodeForm())


@bp.route("/verification/code", methods=["POST"])
@login_required
@post_limit
def redeem_code() -> Response | tuple[str, int]:
    form = PostalCodeForm()
    if form.validate_on_submit():
        try:
            verification.redeem_postal_code(signed_in_user(), form.code.data)
        except DomainError as error:
            form.code.errors = [translate(error)]
            return _verification_page(form, error.http_status)
        flash(_("Thank you. Your account is now verified as a resident."), "success")
        return redirect(url_for("account.verification_page"), code=303)
    return _verification_page(form, 400)


@bp.route("/verification/national-id", methods=["POST"])
@login_required
def national_id_start() -> Response:
    verifier = _national_id_verifier()
    if verifier is None:
        abort(404)
    # the state binds the app's answer to this session (no login CSRF through the callback)
    state = secrets.token_urlsafe(24)
    session["national_id_state"] = state
    return redirect(verifier.start(state, url_for("account.national_id_return", _external=True)),
                    code=303)


@bp.route("/verification/national-id/return")
@login_required
def national_id_return() -> Response | tuple[str, int]:
    verifier = _national_id_verifier()
    if verifier is None:
        abort(404)
    state = session.pop("national_id_state", None)
    given = request.args.get("state", "")
    if not state or not secrets.compare_digest(state, given):
        flash(_("The answer of the national ID app did not match this session. Please try "
                "again."), "error")
        return redirect(url_for("account.verification_page"), code=303)
    try:
        result = verifier.complete(state, request.args.to_dict())
        verification.verify_with_national_id(signed_in_user(), result,
                                             secret=verification.person_secret())
    except NationalIdError:
        flash(_("The national ID app could not confirm your identity. Nothing was saved."),
              "error")
    except DomainError as error:
        flash(translate(error), "error")
    else:
        flash(_("Thank you. Your account is now verified as a resident."), "success")
    return redirect(url_for("account.verification_page"), code=303)
