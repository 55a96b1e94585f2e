"""Jinja filters and globals: Markdown, dates in Asia/Tokyo, labels for enum values."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, current_app, has_request_context, request
from flask_babel import format_datetime, get_locale
from flask_babel import lazy_gettext as _l
from markdown_it import MarkdownIt
from markupsafe import Markup

# Raw HTML is disabled: Markdown written by facilitators cannot inject markup.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

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
ROLE_LABELS = {
    "citizen": _l("Citizen"),
    "facilitator": _l("Facilitator"),
    "council": _l("Council staff"),
    "admin": _l("Administrator"),
}


def render_markdown(text: str | None) -> Markup:
    return Markup(_markdown.render(text or ""))  # noqa: S704 (html disabled above)


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

    return f"{entry.target_type or ''} {audit.target_label(entry, audit_key())}".strip()


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


def local_datetime(value: datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    return format_datetime(value, fmt)


def take_part_refusal(round_: Any) -> str | None:
    """Why the logged-in person may not vote in the round (translated), None if they may
    or are logged out: pages then show how to get verified instead of a vote button."""
    from flask_login import current_user

    from app.rounds.messages import MESSAGES
    from deliberation.services.participants import eligibility_refusal

    if not current_user.is_authenticated:
        return None
    refusal = eligibility_refusal(round_, current_user)
    return str(MESSAGES.get(refusal, refusal)) if refusal else None


def init_app(app: Flask) -> None:
    app.add_template_filter(render_markdown, "markdown")
    app.add_template_filter(local_datetime, "localdt")
    from app.privacy_notice import your_rights

    app.add_template_global(your_rights, "your_rights")
    app.add_template_global(audit_actor, "audit_actor")
    app.add_template_global(audit_target, "audit_target")
    app.add_template_global(moderation_notice, "moderation_notice")
    app.add_template_global(take_part_refusal, "take_part_refusal")

    @app.context_processor
    def globals_for_templates() -> dict:
        return {
            "PHASE_LABELS": PHASE_LABELS,
            "KIND_LABELS": KIND_LABELS,
            "ROLE_LABELS": ROLE_LABELS,
            "current_locale": str(get_locale() or "ja"),
            # Mails are also rendered by the sender thread, outside any request.
            "current_path": request.full_path.rstrip("?") if has_request_context() else "/",
        }
