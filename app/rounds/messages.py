"""Translations of the participation service's messages (the service speaks English).

The strings are listed here so that `pybabel extract` finds them.
"""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from deliberation.errors import DomainError

MESSAGES = {
    str(m): m
    for m in (
        _l("A vote must be agree (1), disagree (-1) or pass (0)."),
        _l("Only residents of the town can take part in this round."),
        _l("Only verified accounts can take part in this round."),
        _l("Please say why you report this proposal."),
        _l("Please write your proposal in words."),
        _l("Please write your proposal."),
        _l("The reason can be at most 1000 characters long."),
        _l("The same proposal already exists in this round."),
        _l("There is no such proposal in this round."),
        _l("This participant belongs to another round."),
        _l("This proposal is not open for voting."),
        _l("This round has not opened yet."),
        _l("This round is not accepting proposals at the moment."),
        _l("You have already reported this proposal."),
        _l("Voting has ended: this round is in its reflection phase."),
        _l("This round is closed for voting."),
    )
}


def translate(error: DomainError) -> str:
    if "max_length" in error.context:
        return gettext("A proposal can be at most %(num)d characters long.",
                       num=int(error.context["max_length"]))  # type: ignore[call-overload]
    return gettext(error.message)
