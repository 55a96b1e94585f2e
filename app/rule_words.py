"""The settings that decide what escalates, in plain words: the rule of a round, and each
change a facilitator made once voting had begun to it, to how the opinion groups are drawn,
to who may take part, to what hides a reported proposal, to the review of new proposals
or to whether escalation is armed, for the round's page and its agenda items."""

from __future__ import annotations

from typing import Any

from flask_babel import format_number, pgettext
from flask_babel import gettext as _

from app.facilitate.forms import eligibility_choices, moderation_choices
from deliberation.services.rounds import RuleChange


def policy_sentence(policy: dict[str, Any]) -> str:
    """The escalation rule of a round in plain words."""
    return _(
        "A proposal goes to the council when, in every opinion group of at least "
        "%(size)s people (and at least %(groups)s such groups), at least %(agree)d%% agree "
        "(with %(confidence)d%% confidence), and at least %(votes)s people have voted on it.",
        size=format_number(int(policy.get("min_group_size") or 0)),
        groups=format_number(int(policy.get("min_groups") or 1)),
        agree=round(float(policy.get("min_group_agree") or 0) * 100),
        confidence=round(float(policy.get("confidence") or 0) * 100),
        votes=format_number(int(policy.get("min_votes") or 0)),
    )


def method_words(method: Any) -> str:
    """How the groups were drawn, named as a reader of the page's language knows it
    (principal component analysis is 主成分分析 to a Japanese reader, not "PCA")."""
    return "UMAP" if method == "umap" else _("PCA")


def _setting_words(key: str, before: Any, after: Any) -> str:
    unknown = _("not recorded")
    if key == "threshold_policy":
        return _("The escalation rule. Before: %(before)s Now: %(after)s",
                 before=policy_sentence(before) if isinstance(before, dict) else unknown,
                 after=policy_sentence(after))
    if key == "clustering_method":
        return _("How the opinion groups are drawn: %(before)s → %(after)s",
                 before=method_words(before) if before else unknown, after=method_words(after))
    if key == "eligibility":
        labels = {choice.value: str(choice.label) for choice in eligibility_choices()}
        return _("Who may take part: %(before)s → %(after)s",
                 before=labels.get(before, unknown), after=labels.get(after, after))
    if key == "moderation_mode":
        # each choice has a colon of its own (事前確認：…): quoted, it does not read as a
        # second label after the setting's
        labels = {choice.value: pgettext("a stored value that contains a colon",
                                         "\u201c%(text)s\u201d", text=choice.label)
                  for choice in moderation_choices()}
        return _("Review of new proposals: %(before)s → %(after)s",
                 before=labels.get(before, unknown), after=labels.get(after, after))
    if key == "report_threshold":
        return _("Reports that hide a proposal until a facilitator reviews it: "
                 "%(before)s → %(after)s",
                 before=before if before is not None else unknown, after=after)
    if key == "report_support_step":
        def step(value: Any) -> str:
            if value is None:
                return unknown
            return _("does not grow") if value == 0 else str(value)

        return _("One more report needed per this many agree votes: %(before)s → %(after)s",
                 before=step(before), after=step(after))
    if key == "reports_need_participation":
        def counted(value: Any) -> str:
            if value is None:
                return unknown
            return (_("only from people who have voted in the round") if value
                    else _("from everyone who may take part"))

        return _("Whose reports count: %(before)s → %(after)s",
                 before=counted(before), after=counted(after))
    if key == "escalation_armed":
        def armed(value: Any) -> str:
            return _("on") if value else _("off")

        return _("Automatic sending to the council: %(before)s → %(after)s",
                 before=armed(before), after=armed(after))
    return _("The largest number of opinion groups: %(before)s → %(after)s",
             before=before if before is not None else unknown, after=after)


def rule_change_words(changes: list[RuleChange]) -> list[dict[str, Any]]:
    """Each change with its time and one sentence per changed setting."""
    return [{"at": change.at,
             "lines": [_setting_words(key, change.before.get(key), value)
                       for key, value in change.after.items()]}
            for change in changes]
