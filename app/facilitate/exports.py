"""The facilitators' downloads as staff read them in Excel: the audit log and the
engagement figures, written like the council's agenda export (``app.downloads``): headers
and labels in the current language instead of codes, Japan time to the minute, and counts
under the small-count minimum as "fewer than 5", as on the pages."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import stored_words
from app.downloads import excel_csv, excel_table, local_time
from app.template_helpers import KIND_LABELS, ROLE_LABELS, TARGET_LABELS, action_label
from deliberation import small_counts
from deliberation.models import AuditEntry
from deliberation.services import audit, engagement

AUDIT_COLUMNS = (
    ("id", _l("Entry number")),
    ("when", _l("When (Japan time)")),
    ("role", _l("Role of the person who acted")),
    ("actor", _l("Person who acted (pseudonym)")),
    ("action", _l("Action")),
    ("target_kind", _l("Kind of target")),
    ("target", _l("Target (number or pseudonym)")),
    ("round", _l("Round")),
    ("reason", _l("Reason")),
    # Every field the action wrote, labelled; the JSON export keeps the stored names.
    ("details", _l("Details of the entry")),
)


def _audit_row(entry: AuditEntry, round_title: str, key: bytes) -> dict[str, Any]:
    actor = audit.actor_pseudonym(entry, key)
    role = (str(_l("system")) if actor is None
            else str(ROLE_LABELS.get(entry.actor_role or "", _l("Unknown"))))
    kind = TARGET_LABELS.get(entry.target_type or "")
    return {
        "id": entry.id,
        "when": local_time(entry.created_at),
        "role": role,
        "actor": actor or "",
        "action": action_label(entry.action),
        "target_kind": str(kind) if kind is not None else (
            str(_l("Other")) if entry.target_type else ""),
        "target": audit.target_label(entry, key),
        "round": round_title,
        "reason": entry.reason or "",
        "details": stored_words.words(entry.details, target=entry.target_type) if entry.details else "",
    }


def audit_csv(key: bytes, round_id: int | None = None) -> str:
    """The audit log (one round's when ``round_id``), newest first, accounts as
    pseudonyms only (``deliberation.services.audit``)."""
    return excel_csv(AUDIT_COLUMNS, (_audit_row(entry, title, key) for entry, title
                                     in audit.export_entries(round_id)))


PERIOD_HEADERS = {
    "day": _l("Day (Japan time)"),
    "week": _l("Week from Monday (Japan time)"),
    "month": _l("Month (Japan time)"),
}


def _count(n: int | None) -> int | str:
    """A count of people, or "fewer than 5" where the small-count rule withholds it."""
    return n if n is not None else _("fewer than %(num)d", num=small_counts.MIN_COUNT)


def dashboard_csv(d: engagement.Dashboard) -> str:
    """The dashboard's figures: the table per period, an empty line, then the totals."""
    kinds = list(d.participants_by_kind)
    rows: list[list[Any]] = [[
        str(PERIOD_HEADERS[d.period]), _("Votes"), _("New proposals"),
        *[_("Participants so far: %(kind)s", kind=KIND_LABELS[k]) for k in kinds]]]
    for i, day in enumerate(d.days):
        rows.append([day.isoformat()[:7] if d.period == "month" else day.isoformat(),
                     d.votes_per_day[i], d.proposals_per_day[i],
                     *[_count(d.participants_by_kind[k][i]) for k in kinds]])
    rows += [[], [_("Figure"), _("Value")],
             [_("Participants"), d.total_participants]]
    rows += [[_("Participants: %(kind)s", kind=KIND_LABELS[k]), _count(n)]
             for k, n in d.kind_totals.items()]
    hours = (None if d.median_moderation is None
             else round(d.median_moderation.total_seconds() / 3600, 1))
    rows += [[_("Participants who voted"), d.voters],
             [_("Came back on another day"), d.returning],
             [_("Waiting for moderation"), d.backlog],
             [_("Median time to moderate (hours)"), "" if hours is None else hours],
             [_("Escalated proposals"), d.escalations],
             [_("Answered by the council"), d.answered],
             [_("Answered in time"), d.answered_in_time]]
    if d.snapshot_at is not None:
        rows.append([_("Latest opinion groups computed (Japan time)"),
                     local_time(d.snapshot_at)])
    rows += [[_("Members of opinion group %(num)d", num=group + 1), size]
             for group, size in d.groups]
    return excel_table(rows)
