"""Translations of the moderation service's messages (the service speaks English).

The strings are listed here so that `pybabel extract` finds them.
"""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from deliberation.errors import DomainError

MESSAGES = (
    _l("Unknown moderation action."),
    _l("A reason is required to reject a proposal."),
    _l("Select at least one proposal."),
    _l("Some of the selected proposals are not in this round."),
)


def translate(error: DomainError) -> str:
    return gettext(error.message)
