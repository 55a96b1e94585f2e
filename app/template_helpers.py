"""Jinja filters and globals: Markdown, dates in Asia/Tokyo, labels for enum values."""

from __future__ import annotations

import functools
import math
import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from babel.dates import get_date_format, get_datetime_format, get_time_format, get_timezone_name
from flask import Flask, current_app, g, has_request_context, request
from flask_babel import (
    format_date,
    format_datetime,
    format_number,
    get_locale,
    get_timezone,
)
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

PHASE_LABELS = {
    "draft": _l("Draft"),
    "collecting": _l("Collecting proposals"),
    "voting": _l("Voting"),
    "reflection": _l("Reflection"),
    "closed": _l("Closed"),
}
KIND_LABELS = {
    "resident": _l("Resident"),
    "e_citizen": _l("E-citizen"),
    "visitor": _l("Visitor"),
    "assisted": _l("Assisted"),
    "unknown": _l("Unknown"),
}
# Rows of the tables by relation to the town (``deliberation.engine.town_relation.kind_row``):
# residents the town verified apart from residents by their own word.
RELATION_LABELS = {
    "resident_verified": _l("Resident, verified by the town"),
    "resident": _l("Resident, self-declared"),
}
VERIFICATION_METHOD_LABELS = {
    "counter": _l("At the counter"),
    "postal_code": _l("Code sent by post"),
    "national_id": _l("National ID app"),
}
ROLE_LABELS = {
    "citizen": _l("Citizen"),
    "facilitator": _l("Facilitator"),
    "council": _l("Council staff"),
    "admin": _l("Administrator"),
}

# Audit log actions (deliberation/services/audit.py callers) in words.
ACTION_LABELS = {
    "account.deleted": _l("Account deleted"),
    "account.email_changed": _l("E-mail address changed"),
    "account.email_confirmed": _l("E-mail address confirmed"),
    "account.password_changed": _l("Password changed"),
    "account.password_reset": _l("Password reset"),
    "account.register": _l("Account created"),
    "account.role_changed": _l("Role changed"),
    "account.verification_revoked": _l("Resident verification revoked"),
    "account.verified": _l("Resident verification recorded"),
    "escalation.automatic": _l("Sent to the council by the rule"),
    "escalation.held_for_review": _l("Sending to the council held for review "
                                     "(coordinated voting suspected)"),
    "escalation.manual": _l("Put on the agenda by a facilitator"),
    "escalation.review_approved": _l("Held sending to the council approved"),
    "escalation.review_dismissed": _l("Held sending to the council dismissed"),
    "escalation.withdrawn": _l("Withdrawn from the agenda"),
    "mail.retry": _l("Mail sent again"),
    "mail.retry_failed": _l("Failed mails sent again"),
    "participant.assisted_create": _l("Assisted participant added"),
    "proposal.approve": _l("Proposal approved"),
    "proposal.meta": _l("Proposal marked as meta"),
    "proposal.reject": _l("Proposal rejected"),
    "proposal.report": _l("Proposal reported"),
    "proposal.restore": _l("Reports dismissed, proposal restored"),
    "proposal.seed": _l("Seed proposal added"),
    "proposal.submit": _l("Proposal submitted"),
    "response.updated": _l("Official response updated"),
    "round.close": _l("Round closed"),
    "round.create": _l("Round created"),
    "round.escalation_armed": _l("Automatic sending to the council switched on"),
    "round.escalation_disarmed": _l("Automatic sending to the council stopped"),
    "round.import_polis": _l("Pol.is export imported"),
    "round.open_collecting": _l("Round opened for proposals"),
    "round.open_voting": _l("Round opened for voting"),
    "round.reflect": _l("Round moved to reflection"),
    "round.reopen": _l("Round reopened"),
    "round.update": _l("Round settings changed"),
    "town.updated": _l("Town settings changed"),
    "verification.postal_codes_generated": _l("Postal verification codes generated"),
    "verification.postal_codes_posted": _l("Postal verification letters confirmed as posted"),
    "vote.assisted": _l("Assisted votes entered"),
    "workshop.close": _l("Workshop registration closed"),
    "workshop.open": _l("Workshop registration opened"),
}
PROPOSAL_STATUS_LABELS = {
    "pending": _l("Pending"),
    "hidden": _l("Hidden after reports"),
    "published": _l("Published"),
    "rejected": _l("Rejected"),
}
MAIL_STATUS_LABELS = {
    "pending": _l("Waiting to be sent"),
    "failed": _l("Failed (no more automatic tries)"),
}
# Why a mail was sent (``purpose`` of the outbox).
MAIL_PURPOSE_LABELS = {
    "confirm_email": _l("Address confirmation"),
    "reset_password": _l("Password reset"),
    "reset_no_account": _l("Reset asked for an address without an account"),
    "already_registered": _l("Registration with a taken address"),
    "change_email": _l("Confirmation of a new address"),
    "email_change_requested": _l("Notice of an address change"),
    "address_taken": _l("Change to a taken address"),
    "proposal_approved": _l("Proposal published"),
    "proposal_rejected": _l("Proposal not published"),
    "proposal_escalated": _l("Proposal on the council's agenda"),
    "council_answer": _l("Council answer"),
    "test": _l("Test mail"),
}
IMPORT_STAGE_LABELS = {
    "queued": _l("Waiting for the background worker to start the import."),
    "reading": _l("Reading and checking the files."),
    "writing": _l("Writing the votes."),
    "done": _l("The Pol.is export was imported."),
    "failed": _l("The import failed; nothing was imported."),
}
TARGET_LABELS = {
    "escalation_reviews": _l("Held sending to the council"),
    "escalations": _l("Agenda item"),
    "mail_outbox": _l("Mail"),
    "official_responses": _l("Official response"),
    "participants": _l("Participant"),
    "proposals": _l("Proposal"),
    "rounds": _l("Round"),
    "users": _l("Account"),
    "workshops": _l("Workshop"),
}


def action_label(action: str) -> str:
    """An audit action in words; an action without a label yet is named as "other"."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else str(_l("Other action"))


def relation_label(row: str) -> str:
    """A row of a table by relation to the town, in words."""
    label = RELATION_LABELS.get(row) or KIND_LABELS.get(row)
    return str(label) if label is not None else str(_l("Unknown"))


@functools.cache
def _markdown() -> Any:
    """The Markdown renderer, built on first use: importing markdown-it costs every process
    that loads the app (CLI commands, the worker) a tenth of a second or so."""
    from markdown_it import MarkdownIt

    # Raw HTML is disabled: Markdown written by facilitators cannot inject markup.
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def render_markdown(text: str | None) -> Markup:
    return Markup(_markdown().render(text or ""))  # noqa: S704 (html disabled in _markdown)


def audit_key() -> bytes:
    """The key of the audit log's account pseudonyms (from the app's secret key)."""
    from deliberation.services import audit

    return audit.pseudonym_key(current_app.config["SECRET_KEY"])


def audit_actor(entry: Any) -> str:
    """Who made an audit entry, as staff may see it: role and pseudonym, or "system"."""
    from deliberation.services import audit

    name = audit.actor_pseudonym(entry, audit_key())
    if name is None:
        return str(_l("system"))
    role = ROLE_LABELS.get(entry.actor_role or "", entry.actor_role or "")
    return f"{role} {name}".strip()


def audit_target(entry: Any) -> str:
    from deliberation.services import audit

    kind = TARGET_LABELS.get(entry.target_type, entry.target_type) if entry.target_type else ""
    return f"{kind} {audit.target_label(entry, audit_key())}".strip()


def moderation_notice(proposal: Any, staff: bool = False) -> str:
    """What stands in for a proposal's text that moderation withholds (see
    ``deliberation.services.visibility``); for staff, the marker put before the text."""
    from deliberation.services import visibility

    reason = visibility.withheld_because(proposal)
    if staff:
        marker = {"rejected": _l("Not public: rejected by moderation"),
                  "hidden": _l("Not public: hidden after reports")}
        return str(marker.get(reason or "", _l("Not public: waiting for moderation")))
    notice = {"rejected": _l("This proposal was rejected by moderation; its text is not shown."),
              "hidden": _l("This proposal is hidden while moderators look at reports; its "
                           "text is not shown.")}
    return str(notice.get(reason or "", _l("This proposal is not public; its text is not shown.")))


def local_datetime(value: datetime | None, precision: str = "minutes") -> str:
    """The time in the town's time zone, to the minute: a closing time, a deadline or when
    something happened reads best without seconds. The audit log asks for ``"seconds"``:
    its entries are matched against the CSV export and the server's logs, and several
    can fall in the same minute.

    A reader in the town's own language knows its clock; anyone else (an e-citizen abroad
    reading English) is told which one it is, in their language's name for it."""
    if value is None:
        return ""
    locale = get_locale()
    if precision == "seconds":
        text = format_datetime(value, "medium")
    else:
        # the locale's own medium date and short time, in its pattern for a date with a
        # time ("2026/11/30 9:05", "Nov 30, 2026, 9:05 AM"): the short date form would be
        # 11/30/26 in English, which a reader outside the US takes for another day
        text = format_datetime(value, get_datetime_format("medium", locale=locale).format(
            get_time_format("short", locale=locale).pattern,
            get_date_format("medium", locale=locale).pattern))
    if locale is not None and str(locale) != current_app.config["BABEL_DEFAULT_LOCALE"]:
        text = f"{text} ({get_timezone_name(get_timezone(), locale=locale)})"
    return text


def local_date(value: datetime | None) -> str:
    """The day in the town's time zone ("2027/01/30", "Jan 30, 2027"): a resident reads an
    answer's deadline as a day; the hour the engine happened to compute it at (1:09 at
    night, the moment of escalation plus the round's days) means nothing to them. Staff
    pages keep the time (localdt)."""
    return "" if value is None else format_date(value, "medium")


def take_part_refusal(round_: Any) -> str | None:
    """Why the logged-in person may not vote in the round (translated), None if they may
    or are logged out: pages then show how to get verified instead of a vote button."""
    from flask_babel import gettext
    from flask_login import current_user

    from deliberation.services.participants import eligibility_refusal

    if not current_user.is_authenticated:
        return None
    refusal = eligibility_refusal(round_, current_user)  # an N_-marked message
    return gettext(refusal) if refusal else None


def first_error_here() -> bool:
    """True for the first form field with an error that a page renders, False after.

    That field gets ``autofocus``: after a refused submission the browser (or htmx, for a
    swapped fragment) puts the cursor there and a screen reader reads its label and error,
    instead of leaving the person at the top of a page that looks unchanged. Works without
    JavaScript."""
    if not has_request_context():
        return False
    if g.get("error_focus_taken"):
        return False
    g.error_focus_taken = True
    return True


def page_address() -> str:
    """Where the language and reading switches and the login link lead back to: this page,
    or, for a refused form shown at an address only a form can reach (a deletion refused
    at /account/delete), the page the form was on (the same-site referrer), else the home
    page, rather than a 405 at that address."""
    rule = request.url_rule
    if request.method == "GET" or (rule is not None and "GET" in (rule.methods or ())):
        return request.full_path.rstrip("?")
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.startswith("/"):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return "/"


def local_number(value: int | None) -> str:
    """A count as the reader's locale writes it, with thousands separators (11,754)."""
    return "" if value is None else format_number(value)


def percent_at_least(share: float) -> int:
    """A share (0 to 1) as a whole percentage never above it, for figures that say "at
    least N%": 91 of 122 (74.6 %) is at least 74 %, not 75. The billionth absorbs the
    float's error, so that 29 of 100 (28.999... %) stays 29."""
    return math.floor(share * 100 + 1e-9)


# after a sentence or a label's colon, and before a note in brackets (tags between)
_SPACE_AFTER_SENTENCE = re.compile(r"(?<=[。！？：])\s+|\s+(?=(?:<[^>]+>)*（)")


def joined_sentences(text: str) -> str:
    """Sentences written one after another in a template, as the page's language joins
    them: English with a space, Japanese with none after 。 or a label's ：, nor before a
    note in （） (``{% filter sentences %}``)."""
    if str(get_locale()) != "ja":
        return text
    joined = _SPACE_AFTER_SENTENCE.sub("", text)
    # only spaces are taken out of markup that was safe: it stays safe
    return Markup(joined) if isinstance(text, Markup) else joined  # noqa: S704


def init_app(app: Flask) -> None:
    app.add_template_filter(render_markdown, "markdown")
    app.add_template_filter(joined_sentences, "sentences")
    app.add_template_filter(local_number, "num")
    app.add_template_filter(percent_at_least, "percent_at_least")
    app.add_template_filter(local_datetime, "localdt")
    app.add_template_filter(local_date, "localdate")
    from app.privacy_notice import your_rights

    app.add_template_global(your_rights, "your_rights")
    app.add_template_global(audit_actor, "audit_actor")
    app.add_template_global(audit_target, "audit_target")
    app.add_template_global(moderation_notice, "moderation_notice")
    app.add_template_global(take_part_refusal, "take_part_refusal")
    app.add_template_global(first_error_here, "first_error_here")
    # A global, not in the context processor: the macros of verify/_level.html use it, and
    # imported macros see globals only.
    app.add_template_global(VERIFICATION_METHOD_LABELS, "VERIFICATION_METHOD_LABELS")

    @app.context_processor
    def globals_for_templates() -> dict:
        return {
            "PHASE_LABELS": PHASE_LABELS,
            "KIND_LABELS": KIND_LABELS,
            "ROLE_LABELS": ROLE_LABELS,
            "TARGET_LABELS": TARGET_LABELS,
            "PROPOSAL_STATUS_LABELS": PROPOSAL_STATUS_LABELS,
            "MAIL_STATUS_LABELS": MAIL_STATUS_LABELS,
            "MAIL_PURPOSE_LABELS": MAIL_PURPOSE_LABELS,
            "IMPORT_STAGE_LABELS": IMPORT_STAGE_LABELS,
            "action_label": action_label,
            "relation_label": relation_label,
            "current_locale": str(get_locale() or "ja"),
            # Mails are also rendered by the sender thread, outside any request.
            "current_path": page_address() if has_request_context() else "/",
        }
