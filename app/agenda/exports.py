"""The council's agenda export as staff read it: CSV for Excel and JSON with the same content.

``deliberation.services.agenda.export_rows`` gives codes, UTC times and fractions; this
module puts them in the current language as the pages do: headers and labels instead of
codes, Japan time to the minute, percentages, groups numbered from 1, the reasons, and the
bridging score and robustness in words beside their figures. A proposal whose text
moderation withholds keeps its text for staff, with the marker column just before it.
"""

from __future__ import annotations

import json
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.agenda import lens
from app.agenda.forms import LAYER_LABELS, OUTCOME_LABELS, STATUS_LABELS
from app.downloads import excel_csv, local_time, percent
from app.template_helpers import PHASE_LABELS, relation_label

KIND_LABELS = {
    "automatic": _l("By the rule (support across opinion groups)"),
    "manual": _l("By a facilitator"),
}
PUBLICATION_LABELS = {
    None: _l("Public"),
    "rejected": _l("Not public: rejected by moderation"),
    "hidden": _l("Not public: hidden after reports"),
    "pending": _l("Not public: waiting for moderation"),
}

# (key, header): the CSV's columns in order, and the keys of each JSON item's "display".
COLUMNS = (
    ("escalation_id", _l("Agenda item number")),
    ("round", _l("Round")),
    ("round_phase", _l("Round phase")),
    ("proposal_number", _l("Proposal number")),
    ("publication", _l("Publication of the text")),
    ("text", _l("Proposal")),
    ("rejection_reason", _l("Reason for the rejection")),
    ("kind", _l("How it reached the agenda")),
    ("escalation_reason", _l("Reason for putting it on the agenda")),
    ("escalated_at", _l("Put on the agenda (Japan time)")),
    ("status", _l("Status")),
    ("outcome", _l("Outcome")),
    ("reasons", _l("Reasons for the outcome")),
    ("answer", _l("Public answer")),
    ("answered_at", _l("Answered (Japan time)")),
    ("due_at", _l("Answer due (Japan time)")),
    ("overdue", _l("Overdue")),
    ("withdrawn_at", _l("Withdrawn (Japan time)")),
    ("withdrawal_reason", _l("Reason for the withdrawal")),
    ("department", _l("Responsible department")),
    ("plan_theme", _l("Municipal plan theme")),
    ("plan_layer", _l("Plan layer")),
    ("support", _l("Support (agree share in the weakest group)")),
    ("lower_bound", _l("Cautious estimate used by the rule")),
    ("support_fallen", _l("Support has since fallen")),
    ("bridging_score", _l("Bridging score")),
    ("bridging", _l("Bridging in words")),
    ("robustness", _l("Robustness")),
    ("holds_for", _l("Ways of grouping that meet the conditions")),
    ("groups", _l("Votes per opinion group")),
    ("votes_by_kind", _l("Votes by relation to the town")),
)
# The dossier shows the text as its heading, the answer and the groups' votes in full.
DOSSIER_COLUMNS = tuple((key, label) for key, label in COLUMNS
                        if key not in ("escalation_id", "text", "answer", "groups",
                                       "votes_by_kind"))


def _yes_no(flag: bool) -> str:
    return _("Yes") if flag else _("No")


def _group(g: dict[str, Any]) -> str:
    seen = g["agree"] + g["disagree"] + g["passes"]
    text = _("Group %(n)s: %(agree)s agree, %(disagree)s disagree, %(passes)s pass, of "
             "%(size)s people (agree share %(share)s, cautious estimate %(lb)s)",
             n=g["number"], agree=g["agree"], disagree=g["disagree"], passes=g["passes"],
             size=g["size"], share=percent(g["agree"] / seen if seen else None) or "—",
             lb=percent(g["lower_bound"]))
    if not g["eligible"]:
        text += " " + _("(too small to count for the rule)")
    return text


def _relation(row: dict[str, Any], minimum: int) -> str:
    def count(n: int | None) -> Any:
        return n if n is not None else _("fewer than %(num)d", num=minimum)

    return _("%(relation)s: %(agree)s agree, %(disagree)s disagree, %(passes)s pass, "
             "%(total)s in all", relation=relation_label(row["kind"]),
             agree=count(row["agree"]), disagree=count(row["disagree"]),
             passes=count(row["passes"]), total=count(row["total"]))


def _votes_by_kind(split: dict[str, Any] | None) -> str:
    if not split:
        return ""
    return "\n".join(_relation(row, split["minimum"]) for row in split["rows"])


def display(row: dict[str, Any], summary: dict[str, Any]) -> dict[str, Any]:
    """One export row in words, keyed like :data:`COLUMNS` (the current language)."""
    withdrawn = row["withdrawn_at"] is not None
    status = (_("Withdrawn") if withdrawn
              else str(STATUS_LABELS[row["status"]]) if row["status"] else "")
    return {
        "escalation_id": row["escalation_id"],
        "round": row["round_title"],
        "round_phase": str(PHASE_LABELS.get(row["round_phase"], row["round_phase"])),
        "proposal_number": row["external_id"] or row["proposal_id"],
        "publication": str(PUBLICATION_LABELS.get(row["text_withheld"],
                                                  PUBLICATION_LABELS["pending"])),
        "text": row["text"],
        "rejection_reason": row["rejection_reason"],
        "kind": str(KIND_LABELS[row["kind"]]),
        "escalation_reason": row["escalation_reason"],
        "escalated_at": local_time(row["escalated_at"]),
        "status": status,
        "outcome": str(OUTCOME_LABELS[row["outcome"]]) if row["outcome"] else "",
        "reasons": row["reasons"],
        "answer": row["answer"],
        "answered_at": local_time(row["answered_at"]),
        "due_at": local_time(row["due_at"]),
        "overdue": _yes_no(row["overdue"] and not withdrawn),
        "withdrawn_at": local_time(row["withdrawn_at"]),
        "withdrawal_reason": row["withdrawal_reason"],
        "department": row["department"],
        "plan_theme": row["plan_theme"],
        "plan_layer": str(LAYER_LABELS[row["plan_layer"]]) if row["plan_layer"] else "",
        "support": percent(row["support"]),
        "lower_bound": percent(row["lower_bound"]) if row["groups"] else "",
        "support_fallen": _yes_no(row["support_fallen"]),
        "bridging_score": ("" if row["bridging_score"] is None
                           else f"{row['bridging_score']:.2f}"),
        "bridging": lens.bridging_words(summary),
        "robustness": lens.robustness_words(summary),
        "holds_for": row["holds_for"] or "",
        "groups": "\n".join(_group(g) for g in row["groups"]),
        "votes_by_kind": _votes_by_kind(row["votes_by_kind"]),
    }


def prepare(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Export rows with their words: each gets ``display`` (the CSV row) and the bridging
    and robustness words; the internal lens summary is dropped."""
    for row in rows:
        summary = row.pop("lens")
        row["display"] = display(row, summary)
        row["bridging_words"] = row["display"]["bridging"]
        row["robustness_words"] = row["display"]["robustness"]
    return rows


def to_csv(rows: list[dict[str, Any]]) -> str:
    """Prepared rows as CSV for Excel: UTF-8 with BOM, one line of headers."""
    return excel_csv(COLUMNS, (row["display"] for row in rows))


def to_json(rows: list[dict[str, Any]], town: dict[str, Any] | None = None) -> str:
    """Prepared rows as JSON: codes and UTC times for programs, ``display`` as in the CSV,
    ``columns`` naming its keys."""
    body: dict[str, Any] = {}
    if town is not None:
        body["town"] = town
    body["columns"] = [{"key": key, "label": str(label)} for key, label in COLUMNS]
    body["items"] = rows
    return json.dumps(body, ensure_ascii=False, indent=2) + "\n"


def render(rows: list[dict[str, Any]], fmt: str, town: dict[str, Any] | None = None) -> str:
    rows = prepare(rows)
    return to_csv(rows) if fmt == "csv" else to_json(rows, town)
