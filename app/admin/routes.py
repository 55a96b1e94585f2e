"""Administration: accounts and roles, the mail outbox, the town's settings (admin role
only)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app import town
from app.admin import bp
from app.admin.forms import TownForm
from app.authz import admin_required
from app.errors import attach_to_form, translate
from app.htmx import render_page_or_fragment
from app.i18n import ngettext
from app.search_args import search_args
from deliberation.database import db
from deliberation.errors import DomainError
from deliberation.models import User
from deliberation.models.mail import OUTBOX_STATUSES
from deliberation.models.user import ROLES
from deliberation.services import accounts
from deliberation.services import mail as outbox
from deliberation.services import town as town_service

USERS_PER_PAGE = 50


@bp.route("/users")
@admin_required
def users() -> Response:
    """Accounts, searchable by e-mail address or display name, 50 to a page."""
    args = search_args()
    page = accounts.search_accounts(args.terms, page=args.page, per_page=USERS_PER_PAGE)
    return render_page_or_fragment("admin/users.html", "admin/_users.html", results=page,
                                   roles=ROLES, q=args.q, query_error=args.error)


@bp.route("/users/<id:user_id>/role", methods=["POST"])
@admin_required
def set_role(user_id: int) -> Response:
    user = db.get_or_404(User, user_id)
    role = request.form.get("role", "")
    if role not in ROLES:
        abort(400)
    if user.id == current_user.id and role != "admin":
        flash(_("You cannot remove your own administrator role."), "error")
    else:
        accounts.set_role(user, role, actor=current_user)
        flash(_("Role changed."), "success")
    return redirect(url_for("admin.users"), code=303)


MAILS_PER_PAGE = 50


@bp.route("/mail")
@admin_required
def mail() -> tuple[str, int]:
    """Mails waiting in the outbox or given up on, failed first; links in them masked."""
    status = request.args.get("status", "")
    args = search_args()
    if status not in OUTBOX_STATUSES:
        status = ""
    page = outbox.outbox_page(status, page=args.page, per_page=MAILS_PER_PAGE)
    return render_template("admin/mail.html", results=page, status=status,
                           counts=outbox.counts_by_status(), preview=outbox.masked_text,
                           recipient=outbox.shown_recipient), 200


@bp.route("/mail/<id:mail_id>/retry", methods=["POST"])
@admin_required
def retry_mail(mail_id: int) -> Response:
    try:
        outbox.retry(mail_id, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(translate(error), "error")
    else:
        flash(_("The mail will be sent again in a moment."), "success")
    return redirect(url_for("admin.mail"), code=303)


@bp.route("/mail/retry-failed", methods=["POST"])
@admin_required
def retry_failed_mail() -> Response:
    count = outbox.retry_failed(actor=current_user)
    flash(ngettext("%(num)d mail will be sent again in a moment.",
                   "%(num)d mails will be sent again in a moment.", count) if count
          else _("No mail had failed."), "success" if count else "info")
    return redirect(url_for("admin.mail"), code=303)


@bp.route("/town", methods=["GET", "POST"])
@admin_required
def town_settings() -> Response | tuple[str, int]:
    """The town's name, operator, contact, terms and logo; empty fields use the server's
    configuration (shown as the placeholder)."""
    defaults = town.defaults()
    form = TownForm(data=town_service.overrides())
    status = 200
    if request.method == "POST":
        form = TownForm()
        if form.validate_on_submit():
            upload = form.logo.data
            # One byte more than allowed is enough to refuse a file that is too large.
            logo = (upload.stream.read(town_service.LOGO_MAX_BYTES + 1)
                    if upload and upload.filename else None)
            try:
                changed = town_service.update(
                    {field: getattr(form, field).data for field in town_service.TEXT_FIELDS},
                    actor=current_user, logo=logo, remove_logo=form.remove_logo.data)
            except DomainError as error:
                db.session.rollback()
                attach_to_form(form, error)
                status = 400
            else:
                town.forget()
                flash(_("The settings were saved.") if changed else _("Nothing was changed."),
                      "success")
                return redirect(url_for("admin.town_settings"), code=303)
        else:
            status = 400
    return render_template("admin/town.html", form=form, defaults=defaults,
                           stored_logo=town_service.stored_logo() is not None), status
