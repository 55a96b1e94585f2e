"""Who may read a proposal's text: one rule for every page, fragment, export and API.

The text is public while the proposal is published. Pending, rejected and hidden
proposals (and any state added later) show a moderation notice instead, also where they
appear after the fact, such as an escalated item whose proposal was later rejected or
hidden. Staff pages keep the text behind a clear marker; public outputs never carry it.
"""

from __future__ import annotations

import sqlalchemy as sa

from deliberation.models import Proposal


def is_public(proposal: Proposal) -> bool:
    return proposal.is_visible  # status "published"


def public_clause() -> sa.ColumnElement[bool]:
    """The same rule as a query condition."""
    return Proposal.status == "published"


def public_text(proposal: Proposal) -> str | None:
    """The text for a public output, ``None`` when moderation withholds it."""
    return proposal.text if is_public(proposal) else None


def withheld_because(proposal: Proposal) -> str | None:
    """Why the text is withheld (the proposal's status), ``None`` when it is public."""
    return None if is_public(proposal) else proposal.status
