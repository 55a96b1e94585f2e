"""Stored JSON in words: the frozen evidence of an escalation, a review's evidence, the
details of an audit entry or a verification, as a person reads them (the personal-data
page, the audit-log CSV). Every key is labelled and every code is named; numbers and free
text stay as stored. The JSON downloads keep the stored keys and codes for programs.

A mapping reads ``label: value、label: value`` (in English ``label: value, label: value``);
a mapping inside one is put in brackets （…）, so that the nesting stays visible on one line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext

from app.agenda.forms import LAYER_LABELS, OUTCOME_LABELS, STATUS_LABELS
from app.agenda.lens import grouping_words
from app.downloads import local_time
from app.facilitate.forms import (
    RoundForm,
    eligibility_choices,
    method_choices,
    moderation_choices,
)
from app.template_helpers import (
    KIND_LABELS,
    MAIL_PURPOSE_LABELS,
    MAIL_STATUS_LABELS,
    PHASE_LABELS,
    PROPOSAL_STATUS_LABELS,
    RELATION_LABELS,
    ROLE_LABELS,
    VERIFICATION_METHOD_LABELS,
)
from app.verify.forms import DOCUMENT_LABELS
from deliberation.engine import threshold

# Keys as the engine, the clustering manifest and the audit calls write them.
KEY_LABELS: dict[str, Any] = {
    # the rule's decision (deliberation.engine.threshold.Decision)
    "escalate": _l("Meets the conditions"),
    "reasons": _l("Why the conditions are not met"),
    "groups": _l("Votes per opinion group"),
    "group_id": _l("Opinion group"),
    "size": _l("Members"),
    "agree": _l("Agree"),
    "disagree": _l("Disagree"),
    "passes": _l("Pass"),
    "share": _l("Agree share"),
    "lower_bound": _l("Cautious estimate used by the rule"),
    "eligible": _l("Large enough to count"),
    "blocking": _l("Holds the proposal back"),
    "total_votes": _l("Votes in total"),
    "total_agrees": _l("Agree votes in total"),
    "group_aware_consensus": _l("Group-aware consensus"),
    "support": _l("Support (agree share in the weakest group)"),
    "policy": _l("Conditions for the agenda"),
    "bridging": _l("Bridging score"),
    "bridging_factor": _l("Position on the main axis of disagreement"),
    "groupings": _l("Ways of grouping tried"),
    "holds_for": _l("Ways of grouping where the conditions are met"),
    "group_sizes": _l("Members per opinion group"),
    # the opinion map calculation and its manifest (clustering.analysis)
    "snapshot": _l("Opinion map calculation"),
    "snapshot_id": _l("Opinion map calculation number"),
    "k": _l("Number of opinion groups"),
    "manifest": _l("How it was calculated"),
    "algorithm": _l("Version of the calculation"),
    "method": _l("Method"),
    "reducer": _l("Map drawn with"),
    "membership": _l("How the opinion groups were formed"),
    "parameters": _l("Settings of the calculation"),
    "seed": _l("Random seed"),
    "max_groups": _l("Maximum number of opinion groups"),
    "base_k": _l("Small clusters formed first"),
    "greedy_n": _l("Participants always placed (the most active first)"),
    "n_comps": _l("Dimensions of the map"),
    "warm_start": _l("Continued from the previous calculation"),
    "lambda_i": _l("Regularisation of the proposals' scores"),
    "lambda_f": _l("Regularisation of the positions"),
    "pass_rating": _l("Value of a pass vote"),
    "rule": _l("Conditions for the agenda"),
    "umap": _l("UMAP settings"),
    "base_clusters": _l("Small clusters placed on the map"),
    "n_neighbors": _l("Neighbours considered"),
    "min_dist": _l("Smallest distance between points"),
    "n_epochs": _l("Rounds of optimisation"),
    "random_state": _l("Random seed"),
    "deterministic": _l("The same votes give the same result"),
    "versions": _l("Software versions"),
    "input_sha256": _l("Fingerprint of the votes (SHA-256)"),
    "n_participants": _l("Number of participants"),
    "n_statements": _l("Number of proposals"),
    "n_votes": _l("Number of votes"),
    "n_statements_grouped": _l("Proposals the opinion groups were drawn from"),
    "n_votes_grouped": _l("Votes the opinion groups were drawn from"),
    "n_clustered": _l("Participants placed in opinion groups"),
    "recorded_at": _l("Recorded at"),
    "created_at": _l("Created at"),
    # votes by relation to the town (deliberation.engine.town_relation)
    "votes_by_kind": _l("Votes by relation to the town"),
    "minimum": _l("Smallest count shown"),
    "rows": _l("Breakdown"),
    "kind": _l("Relation to the town"),
    "total": _l("Total"),
    # coordinated voting (deliberation.engine.coordination)
    "coordination": _l("Coordinated voting"),
    "blocks": _l("Accounts that voted as a block"),
    "similarity": _l("Share of identical votes"),
    "span_seconds": _l("Seconds from the first to the last arrival or change of answer"),
    "identical": _l("Voted exactly alike though not arriving together"),
    "switched_proposal_id": _l("Proposal on which they changed their answer together"),
    "switched_answer": _l("The answer they changed to"),
    "decisive": _l("Decided the outcome"),
    "effect": _l("What their votes did"),
    "source": _l("Votes screened"),
    "assisted_votes": _l("Votes typed in by staff"),
    "met_rule": _l("Met the rule for the council at that moment"),
    "decided_at": _l("Decided at"),
    "with_blocks": _l("With their votes"),
    "without_blocks": _l("Without their votes"),
    "review": _l("Facilitator's review"),
    "approved_by_id": _l("Approved by (account number)"),
    "id": _l("Number"),
    # details of audit entries and verifications (callers of audit.record)
    "role": _l("Role"),
    "previous": _l("Previous role"),
    "files": _l("Files"),
    "proposals": _l("Number of proposals"),
    "participants": _l("Number of participants"),
    "votes": _l("Number of votes"),
    "vote_events": _l("Number of vote records"),
    "rejected": _l("Rejected proposals"),
    "unmoderated": _l("Proposals not yet moderated"),
    "before": _l("Before the change"),
    "status": _l("Status"),
    "status_before": _l("Status before"),
    "status_after": _l("Status after"),
    "outcome": _l("Outcome"),
    "department": _l("Responsible department"),
    "plan_theme": _l("Municipal plan theme"),
    "plan_layer": _l("Plan layer"),
    "due_at": _l("Answer due"),
    "purpose": _l("Purpose"),
    "count": _l("Count"),
    "slug": _l("Address (slug)"),
    "changed": _l("What changed"),
    "phase_before": _l("Phase before"),
    "phase_after": _l("Phase after"),
    "round_phase": _l("Round phase"),
    "label": _l("Name"),
    "document": _l("Document seen"),
    "person": _l("Fingerprint of the person who verified this account (one account per "
                 "person)"),
    "batch": _l("Batch"),
    "code_id": _l("Code number"),
    "provider": _l("Provider"),
    "revoked": _l("Revoked"),
    "expires_at": _l("Expires at"),
    "report_count": _l("Number of reports"),
    "counting": _l("Counted toward hiding"),
    "needed": _l("Reports needed to hide it"),
    "hidden": _l("Hidden"),
    "hours": _l("Hours open"),
    "seats": _l("Seats"),
    "closes_at": _l("Closes"),
    "registrations": _l("Registrations"),
    "proposal_id": _l("Proposal number"),
    "block_sizes": _l("Sizes of the blocks"),
    "threshold_policy": _l("Conditions for the agenda"),
    "title": _l("Title"),
    "url": _l("Address (URL)"),
}

# The same key meaning something else inside one mapping.
KEY_LABELS_IN: dict[tuple[str, str], Any] = {
    ("parameters", "min_votes"): _l("Votes a participant needs to be placed"),
    ("parameters", "bridging"): _l("Bridging score settings"),
    ("versions", "processor"): _l("Processor type (UMAP's layout is computed for it)"),
}

# Programs named as their makers write them.
SOFTWARE = {"python": "Python", "numpy": "NumPy", "scipy": "SciPy",
            "scikit-learn": "scikit-learn", "umap-learn": "umap-learn", "numba": "Numba"}

REASON_LABELS = {
    threshold.TOO_FEW_VOTES: _l("Too few votes in total"),
    threshold.TOO_FEW_AGREES: _l("Too few agree votes in total"),
    threshold.TOO_FEW_GROUPS: _l("Too few opinion groups large enough to count"),
    threshold.GROUP_BELOW_THRESHOLD: _l("An opinion group's agree share is below the "
                                        "condition"),
    threshold.CONSENSUS_BELOW_THRESHOLD: _l("Group-aware consensus is below the condition"),
    threshold.CONSENSUS_MISSING: _l("No group-aware consensus figure"),
    threshold.BRIDGING_BELOW_THRESHOLD: _l("Bridging score is below the condition"),
    threshold.BRIDGING_MISSING: _l("No bridging score"),
    threshold.NOT_ROBUST: _l("Does not meet the conditions with every way of grouping"),
    threshold.ROBUSTNESS_MISSING: _l("No figures for other ways of grouping"),
}
EFFECT_LABELS = {
    "pushed": _l("Put the proposal over the conditions"),
    "blocked": _l("Kept the proposal below the conditions"),
}
ANSWER_LABELS = {1: _l("Agree"), -1: _l("Disagree"), 0: _l("Pass / unsure")}
SCREENED_LABELS = {
    "coordinated": _l("A coordinated block of accounts"),
    "assisted": _l("Votes typed in by staff"),
}
MEMBERSHIP_LABELS = {
    "clustered": _l("Calculated from the votes"),
    "given": _l("As given by the imported data"),
}
REVIEW_STATUS_LABELS = {
    "pending": _l("Waiting for a decision"),
    "approved": _l("Approved: sent to the council"),
    "dismissed": _l("Dismissed: not sent"),
    "superseded": _l("Replaced by a newer review"),
}
# A status belongs to the kind of record the entry is about (an audit entry's target).
STATUS_BY_TARGET: dict[str | None, Mapping[str, Any]] = {
    "proposals": PROPOSAL_STATUS_LABELS,
    "official_responses": STATUS_LABELS,
    "escalations": STATUS_LABELS,
    "mail_outbox": MAIL_STATUS_LABELS,
    "escalation_reviews": REVIEW_STATUS_LABELS,
}


def choice_words(choices: list) -> dict[str, Any]:
    """A form's choices (``SelectChoice``) as stored value -> words."""
    return {choice.value: choice.label for choice in choices}


def _grouping(name: Any) -> str:
    method, _sep, k = str(name).partition(" k=")
    if not k.isdigit():
        return str(name)
    return grouping_words({"method": method, "k": int(k)})


def _group(group_id: Any) -> str:
    """Opinion groups are numbered from 1, as in the council's exports."""
    return _("Group %(num)d", num=int(group_id) + 1) if str(group_id).isdigit() else str(group_id)


def town_setting_words(key: Any) -> str:
    """A town setting's key in the words of the admin form's label."""
    from app.admin.forms import TownForm  # its labels need the app; import on use

    form = TownForm(formdata=None, meta={"csrf": False})
    return str(form[key].label.text) if key in form else str(key)


def _value_labels(key: str, target: str | None, parent: str | None
                  ) -> Mapping[Any, Any] | Callable[[Any], Any] | None:
    if (parent, key) == ("rows", "kind"):  # the rows of the votes by relation to the town
        return {**KIND_LABELS, **RELATION_LABELS}
    if key in ("status", "status_before", "status_after"):
        return STATUS_BY_TARGET.get(target) or {**MAIL_STATUS_LABELS, **STATUS_LABELS,
                                                 **PROPOSAL_STATUS_LABELS}
    if key == "changed" and target is None:  # the town settings' keys
        return town_setting_words
    return VALUE_LABELS.get(key)


VALUE_LABELS: dict[str, Mapping[Any, Any] | Callable[[Any], Any]] = {
    "reasons": REASON_LABELS,
    "group_id": _group,
    "groupings": _grouping,
    "holds_for": _grouping,
    "method": {**choice_words(method_choices()), **VERIFICATION_METHOD_LABELS},
    "reducer": choice_words(method_choices()),
    "clustering_method": choice_words(method_choices()),
    "membership": MEMBERSHIP_LABELS,
    "effect": EFFECT_LABELS,
    "switched_answer": ANSWER_LABELS,
    "source": SCREENED_LABELS,
    "kind": KIND_LABELS,
    "role": ROLE_LABELS,
    "previous": ROLE_LABELS,
    "document": DOCUMENT_LABELS,
    "phase": PHASE_LABELS,
    "phase_before": PHASE_LABELS,
    "phase_after": PHASE_LABELS,
    "round_phase": PHASE_LABELS,
    "outcome": OUTCOME_LABELS,
    "plan_layer": LAYER_LABELS,
    "purpose": MAIL_PURPOSE_LABELS,
    "moderation_mode": choice_words(moderation_choices()),
    "eligibility": choice_words(eligibility_choices()),
}


def key_label(key: str, parent: str | None = None) -> str:
    """The words for ``key`` (inside the mapping stored under ``parent``): the table above,
    the round form's label of a round setting, a program's name, else the key as stored."""
    label = KEY_LABELS_IN.get((parent or "", key)) or KEY_LABELS.get(key)
    if label is None and parent == "versions":
        label = SOFTWARE.get(key)
    if label is None:
        form = RoundForm(formdata=None, meta={"csrf": False})
        label = form[key].label.text if key in form else key
    return str(label)


# A time inside stored JSON (the evidence's evaluation time, for instance).
_ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d\d:\d\d|Z)?")


def words(value: Any, *, target: str | None = None, key: str | None = None,
          parent: str | None = None) -> str:
    """``value`` (stored JSON, or one value of it under ``key`` in the mapping stored under
    ``parent``) in words; ``target`` is the kind of record it is about (an audit entry's
    target), which names its statuses."""
    if value is None or value == {} or value == []:
        return "—"
    if value is True or value is False:
        return _("yes") if value else _("no")
    labels = _value_labels(key, target, parent) if key else None
    if isinstance(value, Mapping):
        if key == "group_sizes":
            return _separator().join(_labelled(_group(g), words(size)) for g, size in value.items())
        return _separator().join(_labelled(key_label(str(k), key), _inner(v, target, str(k), key))
                                 for k, v in value.items())
    if isinstance(value, list | tuple):
        return _separator().join(_inner(v, target, key, parent) for v in value)
    if labels is not None and isinstance(value, str | int):
        if callable(labels):
            return str(labels(value))
        label = labels.get(value)
        if label is not None:
            return str(label)
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    if isinstance(value, str) and _ISO_TIME.fullmatch(value):
        return local_time(value)
    return str(value)


def _labelled(label: str, value: str) -> str:
    """A label and its value as the page's language writes them: 状況：受付済み in Japanese
    (a full-width colon, no space), Status: Received in English."""
    return _("%(label)s: %(value)s", label=label, value=value)


def _separator() -> str:
    """Between the items of a list or mapping: 、 in Japanese, a comma in English."""
    return pgettext("between the items of a list", ", ")


def _inner(value: Any, target: str | None, key: str | None, parent: str | None) -> str:
    text = words(value, target=target, key=key, parent=parent)
    if isinstance(value, Mapping) and value:
        return pgettext("a nested part of a stored value", "(%(text)s)", text=text)
    if not isinstance(value, list | tuple) and _colon() in text:
        # a value that has a colon of its own (a choice such as 事前確認：新しい提案は…) is
        # quoted, or it reads as a second label after its key's
        return pgettext("a stored value that contains a colon", "“%(text)s”", text=text)
    return text


def _colon() -> str:
    """The colon between a label and its value in the page's language (： or ": ")."""
    return _labelled("", "")
