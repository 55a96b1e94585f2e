from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SubmitField
from wtforms.validators import DataRequired


class DeleteAccountForm(FlaskForm):
    password = PasswordField(_l("Your password"), validators=[DataRequired()])
    confirm = BooleanField(
        _l("I understand that my account and personal data are erased and cannot be restored."),
        validators=[DataRequired(message=_l("Please confirm that you want to delete your account."))],
    )
    submit = SubmitField(_l("Delete my account"))
