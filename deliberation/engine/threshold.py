"""The escalation rule: does a proposal reach the council's policy agenda?

A pure function of the snapshot's per-group counts and the round's policy (no database).
A proposal escalates when people who usually disagree agree on it:

1. at least ``min_votes`` votes in total and at least ``min_agrees`` agree votes;
2. at least ``min_groups`` opinion groups with ``min_group_size`` clustered members each
   (smaller groups are reported but do not block);
3. in every such group, the lower bound of the one-sided Wilson interval at
   ``confidence`` of agrees / (agrees + disagrees + passes) is >= ``min_group_agree``;
4. optionally, group-aware consensus >= ``min_consensus``.
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
}

# Machine codes for the reasons a proposal does not escalate.
TOO_FEW_VOTES = "too_few_votes"
TOO_FEW_AGREES = "too_few_agrees"
TOO_FEW_GROUPS = "too_few_groups"
GROUP_BELOW_THRESHOLD = "group_below_threshold"
CONSENSUS_BELOW_THRESHOLD = "consensus_below_threshold"
CONSENSUS_MISSING = "consensus_missing"


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def normalise_policy(policy: Mapping[str, Any] | None) -> dict[str, Any]:
    """The policy with defaults filled in, validated."""
    merged = {**DEFAULT_POLICY, **{k: v for k, v in (policy or {}).items() if k in DEFAULT_POLICY}}
    for key in ("min_votes", "min_agrees", "min_groups", "min_group_size"):
        value = merged[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise PolicyError(f"{key} must be a whole number of at least 0.", key)
    if merged["min_groups"] < 1:
        raise PolicyError("min_groups must be at least 1.", "min_groups")
    confidence = float(merged["confidence"])
    if not 0.5 <= confidence < 1:
        raise PolicyError("confidence must be at least 0.5 and below 1.", "confidence")
    merged["confidence"] = confidence
    share = float(merged["min_group_agree"])
    if not 0 <= share <= 1:
        raise PolicyError("min_group_agree must be between 0 and 1.", "min_group_agree")
    merged["min_group_agree"] = share
    if merged["min_consensus"] is not None:
        consensus = float(merged["min_consensus"])
        if not 0 <= consensus <= 1:
            raise PolicyError("min_consensus must be between 0 and 1.", "min_consensus")
        merged["min_consensus"] = consensus
    return merged


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
) -> Decision:
    """Apply the escalation rule to one proposal's counts on one snapshot."""
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
    }
