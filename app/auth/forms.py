from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    StringField,
    SubmitField,
)

from app.forms import AddressField, HirobaForm
from app.validators import DataRequired, Email, EqualTo, InputRequired, Length
from deliberation.services.accounts import MIN_PASSWORD_LENGTH

PASSWORD_RULES = [
    DataRequired(),
    Length(min=MIN_PASSWORD_LENGTH, message=_l("The password must have at least 8 characters.")),
    Length(max=200, message=_l("The password must have at most 200 characters.")),
]


def kind_choices() -> list[SelectChoice]:
    return [
        SelectChoice("resident", _l("Resident: I live in the town")),
        SelectChoice("e_citizen", _l("E-citizen (kankei jinkō): I care about the town but live elsewhere")),
        SelectChoice("visitor", _l("Visitor: I am visiting the town, on a trip or for work")),
    ]


class LoginForm(HirobaForm):
    email = AddressField(_l("Email address"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Stay logged in on this device"))
    submit = SubmitField(_l("Log in"))


class RegistrationForm(HirobaForm):
    email = AddressField(
        _l("Email address"), validators=[DataRequired(), Email(), Length(max=254)]
    )
    display_name = StringField(
        _l("Display name (a nickname is fine)"), validators=[DataRequired(), Length(max=80)]
    )
    kind = RadioField(_l("Your relation to the town"), choices=kind_choices(),
                      default="resident", validators=[InputRequired()])
    password = PasswordField(
        _l("Password"), validators=PASSWORD_RULES
    )
    password2 = PasswordField(
        _l("Password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
    consent = BooleanField(
        _l("I have read the notice above and agree that my data is kept as described."),
        validators=[DataRequired(message=_l("Without your consent we cannot create an account."))],
    )
    submit = SubmitField(_l("Create account"))
    # The code of the workshop this registration comes through (a link or QR code).
    workshop = HiddenField(validators=[Length(max=40)])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = kind_choices()


class ChangePasswordForm(HirobaForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    password = PasswordField(
        _l("New password"), validators=PASSWORD_RULES
    )
    password2 = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
    submit = SubmitField(_l("Change password"))


class ResetRequestForm(HirobaForm):
    email = AddressField(_l("Email address"), validators=[DataRequired(), Email(), Length(max=254)])
    submit = SubmitField(_l("Send me a link"))


class ResetPasswordForm(HirobaForm):
    password = PasswordField(
        _l("New password"), validators=PASSWORD_RULES
    )
    password2 = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
    submit = SubmitField(_l("Set the new password"))


class ConfirmForm(HirobaForm):
    submit = SubmitField(_l("Confirm"))
