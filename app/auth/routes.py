"""Register, confirm the address, log in and out, change or reset the password.

No page tells whether an address has an account: registration and the reset form answer
the same way for every address (the owner of a taken address gets a mail instead), and
login does the same work and gives the same answer for unknown addresses.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.auth import bp, devices
from app.auth.forms import (
    ChangePasswordForm,
    ConfirmForm,
    LoginForm,
    RegistrationForm,
    ResetPasswordForm,
    ResetRequestForm,
)
from app.auth.limits import (
    REFUSED_FORMS,
    password_reentry_limit,
    refused_form,
    submitted_email_limit,
)
from app.auth.session import end_session, signed_in_user, start_session
from app.errors import attach_to_form
from app.extensions import limiter
from app.i18n import ngettext, switched_language
from app.mail import external_url, make_token, queue_mail, read_token, token_account
from app.privacy_notice import data_items, not_collected
from deliberation.database import db
from deliberation.errors import DomainError
from deliberation.models import Round, User, Workshop
from deliberation.services import accounts, login_throttle, workshops
from deliberation.services import mail as outbox


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


def _throttle_policy() -> login_throttle.Policy:
    config = current_app.config
    return login_throttle.Policy(free=config["LOGIN_FREE_FAILURES"],
                                 account_free=config["LOGIN_ACCOUNT_FREE_FAILURES"],
                                 longest=config["LOGIN_LONGEST_WAIT"],
                                 first=config["LOGIN_FIRST_WAIT"])


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login() -> Response | str:
    if current_user.is_authenticated:
        return redirect(safe_next(), code=303)
    form = LoginForm()
    status = 400 if form.is_submitted() else 200
    retry_after = 0
    if form.validate_on_submit():
        secret, client, email = current_app.secret_key, get_remote_address(), form.email.data
        throttled = limiter.enabled  # off with RATELIMIT_ENABLED, like every other limit
        if throttled:
            retry_after = login_throttle.seconds_to_wait(
                secret, client, email, trusted=devices.knows(email), policy=_throttle_policy())
        if retry_after:
            status = 429
            form.password.errors.append(ngettext(
                "Too many failed attempts. Please wait %(num)d second and try again.",
                "Too many failed attempts. Please wait %(num)d seconds and try again.",
                retry_after))
        else:
            user = accounts.authenticate(email, form.password.data)
            if user is None:
                if throttled:
                    login_throttle.record_failure(secret, client, email)
                form.password.errors.append(_("Wrong email address or password."))
            else:
                if throttled:
                    login_throttle.record_success(secret, client, email)
                start_session(user, remember=form.remember.data)
                flash(_("You are logged in."), "success")
                response = redirect(safe_next(), code=303)
                devices.remember(response, email)
                return response
    response = make_response(render_template("auth/login.html", form=form), status)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _workshop_limit() -> str:
    return current_app.config["WORKSHOP_REGISTER_RATE_LIMIT"]


def _requested_workshop_code() -> str | None:
    raw = request.form.get("workshop") if request.method == "POST" \
        else request.args.get("workshop")
    return raw or None


def _open_workshop() -> Workshop | None:
    """The open workshop (with a seat left) that this registration comes through."""
    if "hiroba_workshop" not in g:
        g.hiroba_workshop = workshops.find_open(_requested_workshop_code())
    return g.hiroba_workshop


def _via_workshop() -> bool:
    return _open_workshop() is not None


def _workshop_key() -> str:
    workshop = _open_workshop()
    return f"workshop:{workshop.id}" if workshop is not None else "workshop:none"


ADDRESS_REFUSED = _l(
    "Many accounts have just been created from this connection. Please wait a minute and "
    "send the form again; what you typed is still here. At a workshop, ask the staff for "
    "the workshop's link or QR code.")
WORKSHOP_REFUSED = _l(
    "Many accounts have just been created through this workshop's link. Please wait a "
    "minute and send the form again; what you typed is still here.")
TOO_MANY_REQUESTS = _l(
    "Too many requests from this connection. Please wait a minute and send the form again; "
    "what you typed is still here.")
WORKSHOP_FULL = _l(
    "This workshop's registration has just filled up or closed. Nothing was saved; please "
    "ask the staff, or send the form again in a minute to register as usual.")


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_register_limit, methods=["POST"], exempt_when=_via_workshop,
               on_breach=refused_form(ADDRESS_REFUSED))
@limiter.limit(_workshop_limit, methods=["POST"], key_func=_workshop_key,
               exempt_when=lambda: not _via_workshop(),
               on_breach=refused_form(WORKSHOP_REFUSED))
@submitted_email_limit
def register() -> Response | tuple[str, int] | str:
    if current_user.is_authenticated:
        return redirect(url_for("main.index"), code=303)
    form = RegistrationForm()
    workshop = _open_workshop()
    status, refused = (400 if form.is_submitted() else 200), None
    if form.validate_on_submit():
        if workshop is not None and not workshops.take_seat(workshop):
            # Filled up or closed since the page was sent: nothing is stored.
            db.session.rollback()
            g.hiroba_workshop = None
            return _register_page(form, 409, refused=str(WORKSHOP_FULL))
        try:
            user, created = accounts.register_or_existing(
                email=form.email.data,
                password=form.password.data,
                display_name=form.display_name.data,
                kind=form.kind.data,
                consent_version=current_app.config["CONSENT_VERSION"],
                locale=switched_language(),
            )
        except DomainError as error:
            db.session.rollback()  # the workshop's seat too
            attach_to_form(form, error)
        else:
            if created:
                send_confirmation(user)
            elif not outbox.is_suppressed(user.email, secret=current_app.secret_key):
                queue_mail(to=user.email, purpose="already_registered",
                           template="already_registered",
                           subject=lambda: _l("Someone tried to register with your address"),
                           locale=user.locale, user=user,
                           login_link=external_url("auth.login"),
                           reset_link=external_url("auth.reset_request"))
            db.session.commit()
            # the page the person registered from stays the one they log in to
            return redirect(url_for("auth.check_mail", reason="register",
                                    next=safe_next() if request.args.get("next") else None),
                            code=303)
    return _register_page(form, status, refused)


def _register_page(form: RegistrationForm, status: int, refused: str | None = None
                   ) -> tuple[str, int]:
    workshop = _open_workshop()
    requested = _requested_workshop_code()
    # a code typed by hand may be mistyped rather than closed: the page says which
    not_open = workshop is None and requested is not None
    known = not_open and workshops.exists(requested)
    workshop_round = None
    if workshop is not None:
        form.workshop.data = workshop.code
        workshop_round = db.session.get(Round, workshop.round_id)
        if workshop_round is not None and not workshop_round.is_public:
            workshop_round = None
    return render_template(
        "auth/register.html",
        form=form,
        refused=refused,
        workshop=workshop,
        workshop_round=workshop_round,
        workshop_closed=known,
        workshop_unknown=not_open and not known,
        data_items=data_items(),
        not_collected=not_collected(),
        consent_version=current_app.config["CONSENT_VERSION"],
    ), status


def _refused_registration(reason: str) -> Response:
    """The registration form as typed (never the passwords), with why it was refused."""
    return make_response(_register_page(RegistrationForm(), 429, refused=reason))


REFUSED_FORMS["auth.register"] = _refused_registration


def send_confirmation(user: User) -> None:
    token = make_token("confirm-email", {"u": user.id, "e": user.email})
    queue_mail(to=user.email, purpose="confirm_email", template="confirm_email",
               subject=lambda: _l("Please confirm your email address"), locale=user.locale,
               user=user, link=external_url("auth.confirm_email", token=token))


@bp.route("/check-mail")
def check_mail() -> str:
    reason = request.args.get("reason", "")
    return render_template("auth/check_mail.html",
                           reason=reason if reason in {"register", "reset", "email"} else "",
                           next_path=safe_next())


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm_email(token: str) -> Response | tuple[str, int] | str:
    payload = read_token("confirm-email", token,
                         max_age=current_app.config["CONFIRM_EMAIL_MAX_AGE"])
    form = ConfirmForm()
    if payload is None:
        return render_template("auth/link_invalid.html"), 400
    if form.validate_on_submit():
        try:
            accounts.confirm_email(token_account(payload), str(payload.get("e")))
        except DomainError:
            db.session.rollback()
            return render_template("auth/link_invalid.html"), 400
        flash(_("Thank you: your email address is confirmed."), "success")
        target = "main.index" if current_user.is_authenticated else "auth.login"
        return redirect(url_for(target), code=303)
    return render_template("auth/confirm.html", form=form,
                           status=400 if form.is_submitted() else 200)


@bp.route("/resend-confirmation", methods=["POST"])
@login_required
@password_reentry_limit
def resend_confirmation() -> Response:
    if current_user.email and not current_user.email_confirmed:
        send_confirmation(signed_in_user())
        db.session.commit()
    return redirect(url_for("auth.check_mail", reason="register"), code=303)


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(_register_limit, methods=["POST"], on_breach=refused_form(TOO_MANY_REQUESTS))
@submitted_email_limit
def reset_request() -> Response | tuple[str, int] | str:
    form = ResetRequestForm()
    if form.validate_on_submit():
        email = accounts.normalise_email(form.email.data)
        user = accounts.find_by_email(email)
        # One mail either way, rendered and queued the same way: the same work and the
        # same answer whether or not the address has an account.
        if user is not None and user.is_active:
            token = make_token("reset-password",
                               {"u": user.id, "f": accounts.link_fingerprint(user)})
            queue_mail(to=email, purpose="reset_password", template="reset_password",
                       subject=lambda: _l("Set a new password"), locale=user.locale,
                       user=user, link=external_url("auth.reset_password", token=token))
        elif not outbox.is_suppressed(email, secret=current_app.secret_key):
            queue_mail(to=email, purpose="reset_no_account", template="reset_no_account",
                       subject=lambda: _l("Set a new password"), locale=None,
                       register_link=external_url("auth.register"))
        db.session.commit()
        return redirect(url_for("auth.check_mail", reason="reset"), code=303)
    status = 400 if form.is_submitted() else 200
    return render_template("auth/reset_request.html", form=form), status


def _refused_reset_request(reason: str) -> Response:
    """The reset form with the address typed in, and why it was refused."""
    return make_response(render_template("auth/reset_request.html", form=ResetRequestForm(),
                                         refused=reason), 429)


REFUSED_FORMS["auth.reset_request"] = _refused_reset_request


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Response | tuple[str, int] | str:
    payload = read_token("reset-password", token,
                         max_age=current_app.config["RESET_PASSWORD_MAX_AGE"])
    if payload is None:
        return render_template("auth/link_invalid.html"), 400
    user = token_account(payload)
    if user is None or accounts.link_fingerprint(user) != payload.get("f"):
        return render_template("auth/link_invalid.html"), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(user, str(payload.get("f")), form.password.data)
        except DomainError as error:
            db.session.rollback()
            attach_to_form(form, error)
        else:
            if current_user.is_authenticated:
                end_session()
            flash(_("Your password has been set. Please log in with the new password."),
                  "success")
            return redirect(url_for("auth.login"), code=303)
    status = 400 if form.is_submitted() else 200
    return render_template("auth/reset_password.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    end_session()
    flash(_("You are logged out."), "info")
    return redirect(url_for("main.index"), code=303)


@bp.route("/password", methods=["GET", "POST"])
@login_required
@password_reentry_limit
def change_password() -> Response | str:
    from app.account.forms import NotificationsForm

    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current.data, form.password.data)
        except DomainError as error:
            db.session.rollback()
            attach_to_form(form, error)
        else:
            start_session(signed_in_user())  # all sessions ended
            flash(_("Your password has been changed. Other devices have been logged out."),
                  "success")
            return redirect(url_for("main.index"), code=303)
    status = 400 if form.is_submitted() else 200
    notifications = NotificationsForm(formdata=None, obj=None,
                                      own_proposals=current_user.notify_own_proposals,
                                      council_answers=current_user.notify_council_answers)
    return render_template("auth/password.html", form=form,
                           notifications=notifications), status
