"""Register, log in, log out, change password."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.auth import bp
from app.auth.forms import ChangePasswordForm, LoginForm, RegistrationForm
from app.auth.session import end_session, start_session
from app.extensions import limiter
from app.i18n import SESSION_KEY
from app.privacy_notice import data_items, not_collected
from app.ratelimits import login_account_limit
from deliberation.errors import DomainError
from deliberation.services import accounts


def safe_next(default: str = "main.index") -> str:
    """The ``next`` target if it stays on this site, else a default page."""
    target = request.args.get("next", "")
    parts = urlsplit(target)
    if target and not parts.scheme and not parts.netloc and target.startswith("/") \
            and not target.startswith("//") and "\\" not in target:
        return target
    return url_for(default)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _register_limit() -> str:
    return current_app.config["REGISTER_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@login_account_limit
def login() -> Response | str:
    if current_user.is_authenticated:
        return redirect(safe_next(), code=303)
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append(_("Wrong email address or password."))
        else:
            start_session(user, remember=form.remember.data)
            flash(_("You are logged in."), "success")
            return redirect(safe_next(), code=303)
    status = 400 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_register_limit, methods=["POST"])
def register() -> Response | str:
    if current_user.is_authenticated:
        return redirect(url_for("main.index"), code=303)
    form = RegistrationForm()
    if form.validate_on_submit():
        try:
            user = accounts.register(
                email=form.email.data,
                password=form.password.data,
                display_name=form.display_name.data,
                kind=form.kind.data,
                consent_version=current_app.config["CONSENT_VERSION"],
                locale=request.cookies.get(SESSION_KEY) or None,
            )
        except DomainError as error:
            target = form.display_name if "display name" in error.message else form.email
            target.errors.append(_(error.message))
        else:
            start_session(user)
            flash(_("Welcome! Your account has been created."), "success")
            return redirect(safe_next(), code=303)
    status = 400 if form.is_submitted() else 200
    return render_template(
        "auth/register.html",
        form=form,
        data_items=data_items(),
        not_collected=not_collected(),
        consent_version=current_app.config["CONSENT_VERSION"],
    ), status


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    end_session()
    flash(_("You are logged out."), "info")
    return redirect(url_for("main.index"), code=303)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password() -> Response | str:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current.data, form.password.data)
        except DomainError as error:
            form.current.errors.append(_(error.message))
        else:
            start_session(current_user._get_current_object())  # all sessions ended
            flash(_("Your password has been changed. Other devices have been logged out."),
                  "success")
            return redirect(url_for("main.index"), code=303)
    status = 400 if form.is_submitted() else 200
    return render_template("auth/password.html", form=form), status
