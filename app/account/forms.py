from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, StringField, SubmitField

from app.forms import AddressField, HirobaForm
from app.validators import DataRequired, Email, Length


class DeleteAccountForm(HirobaForm):
    password = PasswordField(_l("Your password"), validators=[DataRequired()])
    confirm = BooleanField(
        _l("I understand that my account and personal data are erased and cannot be restored."),
        validators=[DataRequired(message=_l("Please confirm that you want to delete your account."))],
    )
    submit = SubmitField(_l("Delete my account"))


class EmailChangeForm(HirobaForm):
    email = AddressField(_l("New email address"),
                       validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Your password"), validators=[DataRequired()])
    submit = SubmitField(_l("Send a confirmation link"))


class NotificationsForm(HirobaForm):
    own_proposals = BooleanField(
        _l("Email me when my proposal is published, not published or put on the council's agenda"))
    council_answers = BooleanField(
        _l("Email me when the council answers a proposal I voted on"))
    submit = SubmitField(_l("Save"))


class UnsubscribeForm(HirobaForm):
    submit = SubmitField(_l("Stop these mails"))
class PostalCodeForm(HirobaForm):
    code = StringField(_l("Code from the letter"), validators=[
        DataRequired(message=_l("Please enter the code from the letter.")), Length(max=40)])
