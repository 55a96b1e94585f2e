"""Translations of the verification service's messages (the service speaks English)."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from deliberation.errors import DomainError

MESSAGES = {
    str(m): m
    for m in (
        _l("A reason is required to revoke a verification."),
        _l("Between 1 and 5000 codes can be generated at once."),
        _l("Codes can be valid between 1 and 365 days."),
        _l("Please choose the document you saw."),
        _l("Please enter whole numbers."),
        _l("Please name the batch (e.g. the mailing's date)."),
        _l("The batch name can be at most 80 characters long."),
        _l("The national ID app did not confirm an address in this town."),
        _l("The national ID app's answer could not be read."),
        _l("There is no such account."),
        _l("This account is already verified as a resident."),
        _l("This account is not verified as a resident."),
        _l("This code is not valid. Please check the letter and try again."),
        _l("This code is not valid, already used or expired. Please check the letter or ask "
           "the town hall for a new one."),
    )
}


def translate(error: DomainError) -> str:
    return gettext(error.message)
