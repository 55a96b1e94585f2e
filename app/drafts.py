"""Words typed into a form whose login ended before it was sent: kept by the browser, put
back after the new login."""

from __future__ import annotations

from flask import request, session

# The form whose words the browser is to put back after the next login (see keep_draft).
RESTORE_DRAFT = "restore_draft"


def keep_draft() -> None:
    """A form refused because the login ended: the page it came from keeps what was typed,
    in the browser's tab (static/js/hiroba.js, ``data-keep-draft``), and puts it back when
    the form is next opened, after the new login. Only which form goes into the session,
    never the words: on a shared terminal the next person's session must not carry them."""
    if request.method == "POST" and request.endpoint:
        session[RESTORE_DRAFT] = request.endpoint


def draft_to_restore() -> bool:
    """Whether this form is to put back what was typed before the login ended (once)."""
    return session.pop(RESTORE_DRAFT, None) == request.endpoint
