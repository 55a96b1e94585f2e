from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField

from app.validators import DataRequired, Length


class ProposalForm(FlaskForm):
    text = TextAreaField(_l("Your proposal"),
                         validators=[DataRequired(message=_l("Please write your proposal."))])


class ReportForm(FlaskForm):
    reason = TextAreaField(
        _l("Why should a facilitator look at this proposal?"),
        validators=[DataRequired(message=_l("Please say why you report this proposal.")),
                    Length(max=1000)],
    )
