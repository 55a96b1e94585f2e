"""Words for the "every record" part of the data page: each table and each column that can
hold data about an account, so that a resident reads headings instead of database names,
and each stored value in words (phases, statuses, votes, roles, yes/no, Japan time). The
rows are shown complete; the JSON download keeps the stored values and names for programs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from app import stored_words
from app.agenda.exports import KIND_LABELS as ESCALATION_KIND_LABELS
from app.agenda.forms import LAYER_LABELS, OUTCOME_LABELS, STATUS_LABELS
from app.downloads import local_time
from app.errors import VOTE_LABELS
from app.facilitate.forms import (
    eligibility_choices,
    method_choices,
    moderation_choices,
)
from app.reading import READING_LABELS
from app.template_helpers import (
    IMPORT_STAGE_LABELS,
    KIND_LABELS,
    MAIL_PURPOSE_LABELS,
    MAIL_STATUS_LABELS,
    PHASE_LABELS,
    PROPOSAL_STATUS_LABELS,
    ROLE_LABELS,
    TARGET_LABELS,
    action_label,
)
from deliberation.database import db

# A table missing here is still shown, under its database name (a test fails first).
TABLE_LABELS = {
    "users": _l("Your account"),
    "participants": _l("Your participation in rounds"),
    "votes": _l("Your current votes"),
    "vote_events": _l("Every vote you cast or changed"),
    "proposals": _l("Proposals you wrote or moderated"),
    "reports": _l("Your reports"),
    "snapshot_memberships": _l("Your place on the opinion maps"),
    "agenda_answers_seen": _l("Council answers you have seen"),
    "audit_log": _l("Audit log entries about you or by you"),
    "rounds": _l("Rounds you created"),
    "escalations": _l("Agenda items you escalated or withdrew"),
    "official_responses": _l("Council responses you edited"),
    "mail_outbox": _l("E-mails sent to you"),
    "verification_records": _l("Verifications of your account, or by you at the counter"),
    "postal_codes": _l("Postal verification codes you used, generated or confirmed as posted "
                       "(fingerprints only)"),
    "escalation_reviews": _l("Held escalations you decided"),
    "import_jobs": _l("Pol.is imports you started"),
    "town_settings": _l("Town settings you changed"),
}

# Column names that mean the same in every table.
COLUMNS = {
    "id": _l("Number"),
    "created_at": _l("Created at"),
    "account_created_at": _l("When the account was made (kept once it is deleted)"),
    "person_key": _l("Fingerprint of the verified person in this round (one person takes "
                     "part once)"),
    "updated_at": _l("Updated at"),
    "user_id": _l("Account number"),
    "round_id": _l("Round number"),
    "participant_id": _l("Participant number"),
    "proposal_id": _l("Proposal number"),
    "snapshot_id": _l("Opinion map calculation number"),
    "response_id": _l("Council response number"),
    "escalation_id": _l("Agenda item number"),
    "answered_at": _l("Answered at"),
    "seen_at": _l("Seen at"),
    "actor_id": _l("Account that acted (number)"),
    "actor_role": _l("Role when acting"),
    "action": _l("Action"),
    "target_type": _l("Kind of target"),
    "target_id": _l("Target number"),
    "reason": _l("Reason"),
    "details": _l("Details of the entry"),
    "status": _l("Status"),
    "evidence": _l("Evidence"),
    "decided_at": _l("Decided at"),
    "decided_by_id": _l("Decided by (account number)"),
    "kind": _l("Relation to the town"),
    "support": _l("Support (agree share in the weakest group)"),
    "escalated_at": _l("Put on the agenda at"),
    "escalated_by_id": _l("Put on the agenda by (account number)"),
    "withdrawn_at": _l("Withdrawn at"),
    "withdrawn_by_id": _l("Withdrawn by (account number)"),
    "withdrawal_reason": _l("Reason for the withdrawal"),
    "created_by_id": _l("Created by (account number)"),
    "slug": _l("Address (slug)"),
    "title": _l("Title"),
    "round_phase": _l("Round phase"),
    "stage": _l("Stage"),
    "rows_read": _l("Rows read"),
    "rows_total": _l("Rows in the file"),
    "rows_written": _l("Rows stored"),
    "error": _l("Error"),
    "lease_owner": _l("Worker handling it"),
    "lease_until": _l("Worker holds it until"),
    "started_at": _l("Started at"),
    "finished_at": _l("Finished at"),
    "recipient": _l("Recipient"),
    "subject": _l("Subject"),
    "purpose": _l("Purpose"),
    "attempts": _l("Attempts"),
    "next_attempt_at": _l("Next attempt at"),
    "last_error": _l("Last error"),
    "outcome": _l("Outcome"),
    "answer": _l("Public answer"),
    "reasons": _l("Reasons for the outcome"),
    "department": _l("Responsible department"),
    "plan_theme": _l("Municipal plan theme"),
    "plan_layer": _l("Plan layer"),
    "due_at": _l("Answer due"),
    "updated_by_id": _l("Updated by (account number)"),
    "source": _l("How"),
    "external_id": _l("Number in the imported data"),
    "label": _l("Name shown to facilitators"),
    "code_hash": _l("Fingerprint of the code"),
    "batch": _l("Batch"),
    "expires_at": _l("Expires at"),
    "used_at": _l("Used at"),
    "used_by_id": _l("Used by (account number)"),
    "author_id": _l("Author (participant number)"),
    "text": _l("Text"),
    "text_key": _l("Text as compared for duplicates"),
    "is_seed": _l("Prepared by the facilitators"),
    "is_meta": _l("About the discussion itself (meta)"),
    "rejection_reason": _l("Moderator's reason"),
    "report_count": _l("Number of reports"),
    "moderated_at": _l("Moderated at"),
    "moderated_by_id": _l("Moderated by (account number)"),
    "reporter_id": _l("Reported by (account number)"),
    "resolved_at": _l("Dealt with at"),
    "resolution": _l("Outcome"),
    "summary": _l("Summary"),
    "description": _l("Description (Markdown)"),
    "background_links": _l("Background links"),
    "phase": _l("Phase"),
    "opens_at": _l("Opens"),
    "closes_at": _l("Closes"),
    "moderation_mode": _l("Moderation"),
    "eligibility": _l("Who may take part"),
    "clustering_method": _l("Clustering method"),
    "max_groups": _l("Maximum number of opinion groups"),
    "threshold_policy": _l("Conditions for the agenda"),
    "report_threshold": _l("Reports before a proposal is hidden"),
    "reports_need_participation": _l("Count only reports from people who have voted in this "
                                     "round"),
    "report_support_step": _l("One more report needed per this many agree votes"),
    "min_group_display": _l("Minimum group size shown in results"),
    "response_deadline_days": _l("Days for the council to answer"),
    "open_data_enabled": _l("Publish the anonymised open-data export"),
    "open_data_until": _l("Number of the last vote when the open data was first published"),
    "escalation_armed": _l("Automatic sending to the council"),
    "x": _l("Place on the map (across)"),
    "y": _l("Place on the map (up and down)"),
    "group_id": _l("Opinion group (counted from 0)"),
    "key": _l("Setting"),
    "value": _l("Your vote"),
    "data": _l("File (base64)"),
    "email": _l("Email address"),
    "display_name": _l("Display name"),
    "locale": _l("Language"),
    "reading": _l("Reading aid (furigana, easy Japanese)"),
    "role": _l("Role"),
    "verification_level": _l("Verification"),
    "verified_person": _l("Fingerprint of the person who verified this account (one "
                          "account per person)"),
    "email_confirmed_at": _l("Email address confirmed at"),
    "consent_version": _l("Version of the terms you agreed to"),
    "consented_at": _l("Consent given"),
    "notify_council_answers": _l("Email me when the council answers a proposal I voted on"),
    "notify_own_proposals": _l("Email me when my proposal is published, not published or "
                               "put on the council's agenda"),
    "deleted_at": _l("Deleted at"),
    "level": _l("Verification"),
    "method": _l("Method"),
    "verified_by_id": _l("Verified by (account number)"),
    "posted_at": _l("Letters confirmed as posted at"),
    "posted_confirmed_by_id": _l("Posting confirmed by (account number)"),
}

# The same name meaning something else in one table.
TABLE_COLUMNS = {
    ("escalations", "kind"): _l("How it reached the agenda"),
    ("town_settings", "value"): _l("Value"),
}


def column_label(table: str, column: str) -> Any:
    """The heading of ``column`` in ``table``; its database name when none is known."""
    return TABLE_COLUMNS.get((table, column)) or COLUMNS.get(column) or column


def labels_for(records: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Table name -> column name -> heading, for the tables of ``records``."""
    return {table: {column: column_label(table, column) for column in (rows[0] if rows else ())}
            for table, rows in records.items()}


# Values that only this page shows in words.
SOURCE_LABELS = {
    "account": _l("With an account"),
    "web": _l("On the website"),
    "api": _l("Through the app interface (API)"),
    "assisted": _l("Entered by staff for you (assisted)"),
    "import": _l("Imported from Pol.is"),
}
ROUND_SOURCE_LABELS = {
    "native": _l("Created in Hiroba"),
    "polis": _l("Imported from Pol.is"),
}
LANGUAGE_NAMES = {"ja": "日本語", "en": "English"}  # each in its own language, as in the menu
RESOLUTION_LABELS = {
    "upheld": _l("Upheld: the proposal was rejected"),
    "dismissed": _l("Dismissed: the proposal stays"),
}
REVIEW_STATUS_LABELS = stored_words.REVIEW_STATUS_LABELS


def _macro(name: str) -> Callable[[str], str]:
    """A label macro of ``verify/_level.html``, so that the words stay in one place."""
    def label(value: str) -> str:
        macros = current_app.jinja_env.get_template("verify/_level.html").module
        return str(getattr(macros, name)(value)).strip()
    return label


def _vote(value: Any) -> Any:
    return VOTE_LABELS.get(str(value), value)


# Column (or (table, column)) -> the words for each stored value: a mapping, or a function
# for values that are not a closed set.
VALUE_LABELS: dict[str | tuple[str, str], Mapping[Any, Any] | Callable[[Any], Any]] = {
    "phase": PHASE_LABELS,
    "round_phase": PHASE_LABELS,
    "kind": KIND_LABELS,
    ("escalations", "kind"): ESCALATION_KIND_LABELS,
    "role": ROLE_LABELS,
    "actor_role": ROLE_LABELS,
    "action": action_label,
    "target_type": TARGET_LABELS,
    "verification_level": _macro("level_label"),
    "level": _macro("level_label"),
    ("verification_records", "method"): _macro("method_label"),
    ("proposals", "status"): PROPOSAL_STATUS_LABELS,
    ("official_responses", "status"): STATUS_LABELS,
    "outcome": OUTCOME_LABELS,
    "plan_layer": LAYER_LABELS,
    ("mail_outbox", "status"): MAIL_STATUS_LABELS,
    "purpose": MAIL_PURPOSE_LABELS,
    ("escalation_reviews", "status"): REVIEW_STATUS_LABELS,
    "stage": IMPORT_STAGE_LABELS,
    ("votes", "value"): _vote,
    ("vote_events", "value"): _vote,
    ("participants", "source"): SOURCE_LABELS,
    ("vote_events", "source"): SOURCE_LABELS,
    ("rounds", "source"): ROUND_SOURCE_LABELS,
    "resolution": RESOLUTION_LABELS,
    "moderation_mode": stored_words.choice_words(moderation_choices()),
    "eligibility": stored_words.choice_words(eligibility_choices()),
    "clustering_method": stored_words.choice_words(method_choices()),
    "reading": READING_LABELS,
    "locale": LANGUAGE_NAMES,
    ("town_settings", "key"): stored_words.town_setting_words,
}


def value_labels(table: str, column: str) -> Mapping[Any, Any] | Callable[[Any], Any] | None:
    return VALUE_LABELS.get((table, column)) or VALUE_LABELS.get(column)


def _is_datetime(table: str, column: str) -> bool:
    found = db.metadata.tables.get(table)
    if found is None or column not in found.columns:
        return False
    type_ = found.columns[column].type
    return isinstance(type_, sa.DateTime) or isinstance(getattr(type_, "impl", None), sa.DateTime)


def readable(value: Any) -> str:
    """A value inside stored JSON (evidence, audit details) in words."""
    return stored_words.words(value)


def _label(labels: Mapping[Any, Any] | Callable[[Any], Any], value: Any) -> str:
    if callable(labels):
        return str(labels(value))
    label = labels.get(value)
    return str(label) if label is not None else str(value)


def cell(table: str, column: str, value: Any) -> str:
    """A stored value of ``table.column`` as a person reads it (the download keeps it raw)."""
    if value is None:
        return "—"
    labels = value_labels(table, column)
    if labels is not None:
        return _label(labels, value)
    if _is_datetime(table, column) and isinstance(value, str):
        return local_time(value)
    return readable(value)
