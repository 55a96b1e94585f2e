from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField

from app.forms import HirobaForm
from app.validators import DataRequired, Length
from deliberation.services.reports import MAX_REASON_LENGTH


class ProposalForm(HirobaForm):
    text = TextAreaField(_l("Your proposal"),
                         validators=[DataRequired(message=_l("Please write your proposal."))])


class ReportForm(HirobaForm):
    reason = TextAreaField(
        _l("Why should a facilitator look at this proposal?"),
        validators=[DataRequired(message=_l("Please say why you report this proposal.")),
                    Length(max=MAX_REASON_LENGTH)],
    )
