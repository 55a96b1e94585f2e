"""Plain words for an escalation's bridging score and robustness (templates, CSV, API)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _


def robustness_words(lens: dict[str, Any]) -> str:
    level = lens.get("robustness")
    if level == "robust":
        return _("This proposal keeps its support however the opinion groups are drawn.")
    if level == "fragile":
        return _("It meets the conditions only with one particular grouping (unstable).")
    if level == "partial":
        return _("It meets the conditions with %(n)s of %(total)s ways of grouping the "
                 "opinions.", n=lens["holds"], total=lens["total"])
    return ""


def bridging_words(lens: dict[str, Any]) -> str:
    level = lens.get("bridging_level")
    if level == "broad":
        return _("People on both sides of the main disagreement support it.")
    if level == "some":
        return _("Its support reaches partly across the main disagreement.")
    if level == "narrow":
        return _("Its support comes mostly from one side of the main disagreement.")
    return ""


def grouping_words(row: dict[str, Any]) -> str:
    if row["method"] == "given":
        return _("the groups given by the import")
    # imported here: rule_words reaches the facilitate blueprint, which reaches this module
    from app.rule_words import method_words

    return _("%(k)s groups (%(method)s)", k=row["k"], method=method_words(row["method"]))
