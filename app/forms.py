"""The base class of Hiroba's forms: WTForms' own field messages in Hiroba's words.

A field that cannot read its input (a number, a date, a choice) answers with WTForms' built-in
message, which its Japanese catalog renders as machine text (「無効な整数です。」). Every form
derives from :class:`HirobaForm`, whose translations word those messages through the app's
catalog and leave the rest to Flask-WTF's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import wtforms
from flask import current_app, flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtforms_translations
from wtforms import EmailField, HiddenField
from wtforms.validators import StopValidation

from app.errors import translate
from deliberation.database import db
from deliberation.errors import Conflict
from deliberation.models import TOKYO
from deliberation.services.accounts import normalise_email

__all__ = ["FIELD_MESSAGES", "AddressField", "DateTimeLocalField", "DecimalField", "HirobaForm",
           "IntegerField", "VersionedForm", "to_tokyo_naive", "to_utc"]

FIELD_MESSAGES = {
    "Not a valid integer value.": _l("Please enter a whole number."),
    "Not a valid decimal value.": _l("Please enter a number."),
    "Not a valid float value.": _l("Please enter a number."),
    "Not a valid datetime value.": _l("Please enter a date and time."),
    "Not a valid date value.": _l("Please enter a date."),
    "Not a valid time value.": _l("Please enter a time."),
    "Not a valid choice.": _l("Please choose one of the options."),
    "Invalid Choice: could not coerce.": _l("Please choose one of the options."),
}


class _Translations:
    def gettext(self, string: str) -> str:
        message = FIELD_MESSAGES.get(string)
        return str(message) if message is not None else wtforms_translations.gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return wtforms_translations.ngettext(singular, plural, n)


_TRANSLATIONS = _Translations()


def to_utc(value: datetime | None) -> datetime | None:
    """A date and time field's value (Japan time without a zone, as a datetime-local
    input sends it), as stored."""
    return None if value is None else value.replace(tzinfo=TOKYO).astimezone(UTC)


def to_tokyo_naive(value: datetime | None) -> datetime | None:
    """A stored time, as a date and time field shows it."""
    return None if value is None else value.astimezone(TOKYO).replace(tzinfo=None)


class _SaysOnlyItCannotRead:
    """A field whose input could not be read (``abc`` for a number) says only that: its
    validators would judge the missing value too and add a second message (a range, or the
    same words again) about something the person did not type. Empty input is left to the
    validators (Optional clears the error, InputRequired says the field is needed)."""

    def pre_validate(self, form: Any) -> None:
        typed = bool(self.raw_data) and str(self.raw_data[0]).strip() != ""
        if self.process_errors and typed:
            raise StopValidation()
        super().pre_validate(form)


class IntegerField(_SaysOnlyItCannotRead, wtforms.IntegerField):
    pass


class DecimalField(_SaysOnlyItCannotRead, wtforms.DecimalField):
    pass


class DateTimeLocalField(_SaysOnlyItCannotRead, wtforms.DateTimeLocalField):
    pass


class HirobaForm(FlaskForm):
    class Meta:
        def get_translations(self, form: Any) -> Any:
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return None  # WTForms' English messages
            return _TRANSLATIONS


class VersionedForm(HirobaForm):
    """A form that edits a row which someone else may save meanwhile (another member of
    staff, a second tab): the page carries when the row was last saved as it showed it, and
    the service refuses to overwrite a later save unseen."""

    version = HiddenField()

    def seen(self) -> datetime | None:
        try:
            return datetime.fromisoformat(self.version.data or "")
        except ValueError:  # absent (an older page, a script) or garbled
            return None

    def saved_meanwhile(self, error: Conflict, row: Any) -> None:
        """The service refused because ``row`` was saved after this form was shown: the
        message goes above the form, what was typed stays in it, and the version becomes
        the later save's, so that sending the form again replaces that save knowingly."""
        flash(translate(error), "error")
        db.session.refresh(row)
        self.version.data = row.updated_at.isoformat()


def _address(value: str | None) -> str | None:
    return normalise_email(value) if value else value


class AddressField(EmailField):
    """An e-mail address read in its stored form before it is checked: full-width letters
    and ＠ from a phone's Japanese keyboard are accepted, and an address typed another way
    is the same account and the same per-address limit everywhere."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["filters"] = [_address, *kwargs.get("filters", ())]
        super().__init__(*args, **kwargs)
