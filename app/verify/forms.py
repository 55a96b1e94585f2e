"""Staff forms of resident verification."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from app.forms import HirobaForm, IntegerField
from deliberation.models.verification import COUNTER_DOCUMENTS

DOCUMENT_LABELS = {
    "my_number_card": _l("My Number card (front side only)"),
    "driving_licence": _l("Driving licence"),
    "residence_card": _l("Residence card"),
    "health_insurance": _l("Health insurance card"),  # earlier records only
    "other": _l("Other official document with the address"),
}


class CounterForm(HirobaForm):
    document = SelectField(_l("Document you saw"),
                           choices=lambda: [SelectChoice(d, DOCUMENT_LABELS[d]) for d in COUNTER_DOCUMENTS],
                           validators=[DataRequired()])
    # checked by the service, which knows each document's form of number
    number = StringField(_l("Number on the document"), validators=[Length(max=100)])


class RevokeForm(HirobaForm):
    reason = StringField(_l("Reason for revoking"), validators=[
        DataRequired(message=_l("A reason is required to revoke a verification.")),
        Length(max=500)])


class PostalCodesForm(HirobaForm):
    count = IntegerField(_l("Number of codes"), default=100, validators=[
        InputRequired(message=_l("Please enter whole numbers.")),
        NumberRange(min=1, max=5000,
                    message=_l("Between 1 and 5000 codes can be generated at once."))])
    valid_days = IntegerField(_l("Valid for (days)"), default=60, validators=[
        InputRequired(message=_l("Please enter whole numbers.")),
        NumberRange(min=1, max=365, message=_l("Codes can be valid between 1 and 365 days."))])
    batch = StringField(_l("Name of the batch"), validators=[
        DataRequired(message=_l("Please name the batch (e.g. the mailing's date).")),
        Length(max=80, message=_l("The batch name can be at most 80 characters long."))])


class PostedForm(HirobaForm):
    """Another member of staff confirms that a batch's letters were posted."""

    # any name reaches the service, which says why a batch cannot be confirmed (one's own)
    batch = SelectField(_l("Batch whose letters were posted"), choices=[], validate_choice=False,
                        validators=[DataRequired(message=_l("Please choose the batch."))])
    letters = IntegerField(_l("Number of letters posted"), validators=[
        InputRequired(message=_l("Please enter whole numbers.")),
        NumberRange(min=1, max=5000, message=_l("Please enter whole numbers."))])
