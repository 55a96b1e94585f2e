"""The escalation rule: does a proposal reach the council's policy agenda?

A pure function of the snapshot's per-group counts and the round's policy (no database).
A proposal escalates when people who usually disagree agree on it:

1. at least ``min_votes`` votes in total and at least ``min_agrees`` agree votes;
2. at least ``min_groups`` opinion groups with ``min_group_size`` clustered members each
   (smaller groups are reported but do not block);
3. in every such group, the lower bound of the one-sided Wilson interval at
   ``confidence`` of agrees / (agrees + disagrees + passes) is >= ``min_group_agree``;
4. optionally, group-aware consensus >= ``min_consensus``;
5. optionally, a bridging score (the proposal's intercept in the Community Notes-style
   model of ``clustering/bridging.py``) >= ``min_bridging``;
6. optionally (``require_robust``), the rule also holds for every other plausible grouping
   of the same votes (k = 2 .. the round's maximum; PCA and UMAP when UMAP is on).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from statistics import NormalDist
from typing import Any

DEFAULT_POLICY: dict[str, Any] = {
    "min_votes": 20,
    "min_agrees": 0,
    "min_groups": 2,
    "min_group_size": 5,
    "confidence": 0.90,
    "min_group_agree": 0.5,
    "min_consensus": None,
    "min_bridging": None,
    "require_robust": False,
}

# Bridging scores at or above these read as "broad" / "some" support across the main
# divide (the intercepts of escalated proposals on the shared Pol.is conversations lie
# between 0.17 and 0.47, three quarters of them above 0.25; bench/README.md).
BRIDGING_BROAD = 0.25
BRIDGING_SOME = 0.15

# Machine codes for the reasons a proposal does not escalate.
TOO_FEW_VOTES = "too_few_votes"
TOO_FEW_AGREES = "too_few_agrees"
TOO_FEW_GROUPS = "too_few_groups"
GROUP_BELOW_THRESHOLD = "group_below_threshold"
CONSENSUS_BELOW_THRESHOLD = "consensus_below_threshold"
CONSENSUS_MISSING = "consensus_missing"
BRIDGING_BELOW_THRESHOLD = "bridging_below_threshold"
BRIDGING_MISSING = "bridging_missing"
NOT_ROBUST = "not_robust"
ROBUSTNESS_MISSING = "robustness_missing"


class PolicyError(ValueError):
    """A policy value out of range; ``field`` names the policy key."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class GroupCounts:
    """Votes on one proposal within one opinion group."""

    group_id: int
    size: int  # clustered members of the group
    agree: int
    disagree: int
    passes: int

    @property
    def seen(self) -> int:
        return self.agree + self.disagree + self.passes


@dataclass(frozen=True)
class GroupDecision:
    group_id: int
    size: int
    agree: int
    disagree: int
    passes: int
    share: float  # raw agree share (0 when nobody voted)
    lower_bound: float  # Wilson one-sided lower bound
    eligible: bool  # large enough to count
    blocking: bool  # eligible and below the threshold


@dataclass(frozen=True)
class Decision:
    escalate: bool
    reasons: list[str]
    groups: list[GroupDecision] = field(default_factory=list)
    total_votes: int = 0
    total_agrees: int = 0
    group_aware_consensus: float | None = None
    support: float = 0.0  # weakest eligible group's lower bound (0 without eligible groups)
    policy: dict[str, Any] = field(default_factory=dict)
    bridging: float | None = None  # the proposal's bridging score (intercept)
    bridging_factor: float | None = None  # its position on the main axis of disagreement
    groupings: list[str] = field(default_factory=list)  # plausible groupings tried
    holds_for: list[str] = field(default_factory=list)  # those where the group rule holds

    @property
    def robustness(self) -> str | None:
        """"robust" (holds for every grouping), "fragile" (for one only), "partial", or None
        when the snapshot has no robustness figures (older snapshots)."""
        return robustness_level(self.groupings, self.holds_for)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# Bounds a rule can meet at all: a count above the largest city's population, or more
# groups than a clustering ever forms (at most 12), would stop every escalation while
# the round page reads as if it had a rule.
MAX_COUNT = 10_000_000
MAX_GROUPS = 12


def normalise_policy(policy: Mapping[str, Any] | None) -> dict[str, Any]:
    """The policy with defaults filled in, validated."""
    merged = {**DEFAULT_POLICY, **{k: v for k, v in (policy or {}).items() if k in DEFAULT_POLICY}}
    for key in ("min_votes", "min_agrees", "min_groups", "min_group_size"):
        value = merged[key]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
            raise PolicyError(f"{key} must be a whole number from 0 to {MAX_COUNT}.", key)
    if not 1 <= merged["min_groups"] <= MAX_GROUPS:
        raise PolicyError(f"min_groups must be from 1 to {MAX_GROUPS}.", "min_groups")
    for key, low, high, message in (
            ("confidence", 0.5, 1.0, "confidence must be at least 0.5 and below 1."),
            ("min_group_agree", 0.0, 1.0, "min_group_agree must be between 0 and 1."),
            ("min_consensus", 0.0, 1.0, "min_consensus must be between 0 and 1."),
            ("min_bridging", -1.0, 1.0, "min_bridging must be between -1 and 1.")):
        value = merged[key]
        if value is None and key in ("min_consensus", "min_bridging"):
            continue
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise PolicyError(message, key) from None
        if not low <= value <= high or (key == "confidence" and value >= 1):
            raise PolicyError(message, key)
        merged[key] = value
    if not isinstance(merged["require_robust"], bool):
        raise PolicyError("require_robust must be true or false.", "require_robust")
    return merged


def robustness_level(groupings: Sequence[str], holds_for: Sequence[str]) -> str | None:
    if not groupings:
        return None
    if len(holds_for) == len(groupings):
        return "robust"
    return "fragile" if len(holds_for) <= 1 else "partial"


def lens_summary(decision: Mapping[str, Any] | None) -> dict[str, Any]:
    """Bridging score and robustness of a decision (``Decision.to_dict()``, e.g. the frozen
    evidence of an escalation), with their levels; missing figures are None."""
    d = decision or {}
    groupings = list(d.get("groupings") or [])
    holds_for = list(d.get("holds_for") or [])
    rows = []
    for name in groupings:
        method, _, k = name.partition(" k=")
        rows.append({"name": name, "method": method, "k": int(k) if k.isdigit() else None,
                     "holds": name in holds_for})
    bridging = d.get("bridging")
    return {
        "bridging": bridging,
        "bridging_factor": d.get("bridging_factor"),
        "bridging_level": bridging_level(bridging),
        "robustness": robustness_level(groupings, holds_for),
        "groupings": rows,
        "holds": sum(r["holds"] for r in rows),
        "total": len(rows),
    }


def bridging_level(score: float | None) -> str | None:
    """"broad", "some" or "narrow" support across the main divide (None: no score)."""
    if score is None:
        return None
    if score >= BRIDGING_BROAD:
        return "broad"
    return "some" if score >= BRIDGING_SOME else "narrow"


def wilson_lower_bound(successes: int, trials: int, confidence: float) -> float:
    """Lower bound of the one-sided Wilson score interval (0 for no trials)."""
    if trials <= 0:
        return 0.0
    z = NormalDist().inv_cdf(confidence)
    p = successes / trials
    z2 = z * z
    centre = p + z2 / (2 * trials)
    margin = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return max(0.0, (centre - margin) / (1 + z2 / trials))


def evaluate(
    policy: Mapping[str, Any] | None,
    groups: Sequence[GroupCounts],
    *,
    total_votes: int,
    total_agrees: int,
    group_aware_consensus: float | None = None,
    bridging: float | None = None,
    bridging_factor: float | None = None,
    groupings: Sequence[str] = (),
    holds_for: Sequence[str] = (),
) -> Decision:
    """Apply the escalation rule to one proposal's counts on one snapshot.

    ``groupings``: the plausible groupings the snapshot tried (empty for older snapshots);
    ``holds_for``: those where the group rule (1-4) holds for this proposal.
    """
    pol = normalise_policy(policy)
    reasons: list[str] = []
    if total_votes < pol["min_votes"]:
        reasons.append(TOO_FEW_VOTES)
    if total_agrees < pol["min_agrees"]:
        reasons.append(TOO_FEW_AGREES)

    decided: list[GroupDecision] = []
    for g in sorted(groups, key=lambda g: g.group_id):
        seen = g.seen
        share = g.agree / seen if seen else 0.0
        lower = wilson_lower_bound(g.agree, seen, pol["confidence"])
        eligible = g.size >= pol["min_group_size"]
        blocking = eligible and lower < pol["min_group_agree"]
        decided.append(GroupDecision(g.group_id, g.size, g.agree, g.disagree, g.passes,
                                     share, lower, eligible, blocking))
    eligible = [d for d in decided if d.eligible]
    if len(eligible) < pol["min_groups"]:
        reasons.append(TOO_FEW_GROUPS)
    if any(d.blocking for d in eligible):
        reasons.append(GROUP_BELOW_THRESHOLD)
    if pol["min_consensus"] is not None:
        if group_aware_consensus is None:
            reasons.append(CONSENSUS_MISSING)
        elif group_aware_consensus < pol["min_consensus"]:
            reasons.append(CONSENSUS_BELOW_THRESHOLD)
    if pol["min_bridging"] is not None:
        if bridging is None:
            reasons.append(BRIDGING_MISSING)
        elif bridging < pol["min_bridging"]:
            reasons.append(BRIDGING_BELOW_THRESHOLD)
    if pol["require_robust"]:
        if not groupings:
            reasons.append(ROBUSTNESS_MISSING)
        elif len(holds_for) < len(groupings):
            reasons.append(NOT_ROBUST)
    support = min((d.lower_bound for d in eligible), default=0.0)
    return Decision(
        escalate=not reasons,
        reasons=reasons,
        groups=decided,
        total_votes=total_votes,
        total_agrees=total_agrees,
        group_aware_consensus=group_aware_consensus,
        support=support,
        policy=pol,
        bridging=bridging,
        bridging_factor=bridging_factor,
        groupings=list(groupings),
        holds_for=list(holds_for),
    )


def explain(policy: Mapping[str, Any] | None) -> dict[str, Any]:
    """Locale-independent values for the plain-words sentence in templates (percentages)."""
    pol = normalise_policy(policy)
    return {
        "min_group_agree_pct": round(pol["min_group_agree"] * 100),
        "confidence_pct": round(pol["confidence"] * 100),
        "min_groups": pol["min_groups"],
        "min_group_size": pol["min_group_size"],
        "min_votes": pol["min_votes"],
        "min_agrees": pol["min_agrees"],
        "min_consensus_pct": (None if pol["min_consensus"] is None
                              else round(pol["min_consensus"] * 100)),
        "min_bridging": pol["min_bridging"],
        "require_robust": pol["require_robust"],
    }
