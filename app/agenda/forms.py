"""Forms for the council's response workflow and facilitators' manual escalation."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateTimeLocalField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)

from app.forms import HirobaForm, VersionedForm, to_tokyo_naive, to_utc
from app.validators import DataRequired, InputRequired, Length, Optional, PlausibleYear
from deliberation.ids import coerce_id

STATUS_LABELS = {
    "received": _l("Received"),
    "under_review": _l("Under review"),
    "answered": _l("Answered"),
}
OUTCOME_LABELS = {
    "adopted": _l("Adopted"),
    "partly_adopted": _l("Partly adopted"),
    "not_adopted": _l("Not adopted"),
}
LAYER_LABELS = {
    "vision": _l("Vision"),
    "management_guideline": _l("Management guideline"),
    "sector_plan": _l("Sector plan"),
}


def _choices(labels: dict, empty=None) -> list[SelectChoice]:
    head = [SelectChoice("", empty)] if empty is not None else []
    return head + [SelectChoice(value, label) for value, label in labels.items()]


class ResponseForm(VersionedForm):
    status = SelectField(_l("Status"), choices=_choices(STATUS_LABELS))
    outcome = SelectField(_l("Outcome"), choices=_choices(OUTCOME_LABELS,
                                                                   _l("(none yet)")), default="")
    reasons = TextAreaField(_l("Reasons for the outcome"), validators=[Length(max=10000)])
    answer = TextAreaField(_l("Public answer"), validators=[Length(max=20000)])
    department = StringField(_l("Responsible department"), validators=[Length(max=200)])
    plan_theme = StringField(_l("Municipal plan theme"), validators=[Length(max=200)])
    plan_layer = SelectField(_l("Plan layer"), choices=_choices(LAYER_LABELS, _l("(none)")),
                             default="")
    due_at = DateTimeLocalField(_l("Response deadline (Japan time)"), format="%Y-%m-%dT%H:%M",
                                validators=[Optional(), PlausibleYear()])

    def validate(self, extra_validators: Any = None) -> bool:
        """An answer's outcome, reasons and public text, each missing one marked at once:
        the service refuses the first it meets, which made council staff send the form
        three times to learn what an answer needs. The service still checks them."""
        valid = super().validate(extra_validators)
        if self.status.data == "answered":
            for field, message in ((self.outcome, _l("An answer needs an outcome.")),
                                   (self.reasons, _l("An answer needs the reasons for the outcome.")),
                                   (self.answer, _l("An answer needs a public answer text."))):
                if not (field.data or "").strip():
                    field.errors = [*field.errors, message]
                    valid = False
        return valid

    def load(self, response: Any) -> None:
        """Fill the form from an official response (GET of the item's page)."""
        for key in ("status", "reasons", "answer", "department", "plan_theme"):
            getattr(self, key).data = getattr(response, key)
        self.outcome.data = response.outcome or ""
        self.plan_layer.data = response.plan_layer or ""
        self.due_at.data = to_tokyo_naive(response.due_at)
        self.version.data = response.updated_at.isoformat()

    def due_at_utc(self):
        return to_utc(self.due_at.data)


class ReasonForm(HirobaForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


class ManualEscalationForm(HirobaForm):
    # Radio buttons drawn by the template from one page of search matches; the choices
    # (every proposal that can still be escalated) only validate the submitted id.
    proposal_id = RadioField(_l("Proposal"), coerce=coerce_id,
                             validators=[InputRequired(_l("Please choose a proposal."))])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
