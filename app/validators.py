"""WTForms validators with messages written for Hiroba (natural Japanese in the catalog).

Forms import validators from here instead of ``wtforms.validators``: WTForms' own built-in
messages read as translated machine text in Japanese (「フィールドは 8 以上, 200 文字以内でな
ければなりません。」). Same classes and arguments; only the default messages differ.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import validators
from wtforms.validators import EqualTo, Optional, ValidationError

__all__ = ["DataRequired", "Email", "EqualTo", "InputRequired", "Length", "NumberRange",
           "Optional", "PlausibleYear", "ValidationError"]


class DataRequired(validators.DataRequired):
    def __init__(self, message: Any = None) -> None:
        super().__init__(message or _l("Please fill this in."))


class InputRequired(validators.InputRequired):
    def __init__(self, message: Any = None) -> None:
        super().__init__(message or _l("Please fill this in."))


class Email(validators.Email):
    def __init__(self, message: Any = None, **kwargs: Any) -> None:
        super().__init__(message or _l("Please enter a valid email address."), **kwargs)

    def __call__(self, form: Any, field: Any) -> None:
        local = (field.data or "").rpartition("@")[0]
        if not local.isascii():
            # No mail server Hiroba sends through takes such an address (SMTPUTF8): the
            # confirmation mail could never arrive.
            raise ValidationError(_l(
                "Please write the part before the @ in half-width letters, digits and signs."))
        super().__call__(form, field)


class Length(validators.Length):
    def __init__(self, min: int = -1, max: int = -1, message: Any = None) -> None:
        if message is None:
            if min >= 0 and max >= 0:
                message = _l("Please enter %(min)d to %(max)d characters.")
            elif max >= 0:
                message = _l("Please enter at most %(max)d characters.")
            else:
                message = _l("Please enter at least %(min)d characters.")
        super().__init__(min, max, message)


class NumberRange(validators.NumberRange):
    def __init__(self, min: Any = None, max: Any = None, message: Any = None) -> None:
        if message is None:
            if min is not None and max is not None:
                message = _l("Please enter a number from %(min)s to %(max)s.")
            elif max is not None:
                message = _l("Please enter a number of at most %(max)s.")
            else:
                message = _l("Please enter a number of at least %(min)s.")
        super().__init__(min, max, message)


class PlausibleYear:
    """A date and time of a round or a council deadline: from the year 2000 to 2999.

    Anything else is a typing mistake; it is also what keeps the conversion from Japan time
    to UTC, and every deadline added to the date later, inside Python's calendar (a time
    before 09:00 on 1 January of the year 1 in Japan has no UTC at all)."""

    def __call__(self, form: Any, field: Any) -> None:
        if field.data is not None and not 2000 <= field.data.year <= 2999:
            raise ValidationError(_l("Please enter a date and time from the year 2000 to 2999."))
