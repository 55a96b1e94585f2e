"""The group escalation rule over all statements at once, and its robustness to the grouping.

The same rule as ``deliberation/engine/threshold.py`` (which explains each decision for one
proposal; a test keeps the two equal): a statement passes when it has at least
``min_votes`` votes and ``min_agrees`` agrees, there are at least ``min_groups`` groups of at
least ``min_group_size`` members, and in every such group the one-sided Wilson lower bound
at ``confidence`` of agrees / (agrees + disagrees + passes) is at least ``min_group_agree``
(optionally group-aware consensus >= ``min_consensus``).

Robustness: an escalation is a property of the votes when it also holds for the other
plausible groupings (every k from 2 to the round's maximum; PCA and UMAP when UMAP is on).
``robust``: it holds for all of them; ``fragile``: only for the grouping in use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np

from .stats import Counts

__all__ = ["DEFAULT_RULE", "Grouping", "Robustness", "passes_rule", "robustness",
           "wilson_lower_bound"]

DEFAULT_RULE: dict[str, Any] = {
    "min_votes": 20,
    "min_agrees": 0,
    "min_groups": 2,
    "min_group_size": 5,
    "confidence": 0.90,
    "min_group_agree": 0.5,
    "min_consensus": None,
}


def wilson_lower_bound(successes, trials, confidence: float) -> np.ndarray:
    """Lower bound of the one-sided Wilson score interval (0 for no trials), vectorised."""
    k = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    z = NormalDist().inv_cdf(confidence)
    z2 = z * z
    safe = np.maximum(n, 1.0)
    p = k / safe
    centre = p + z2 / (2 * safe)
    margin = z * np.sqrt(p * (1 - p) / safe + z2 / (4 * safe * safe))
    lower = np.maximum(0.0, (centre - margin) / (1 + z2 / safe))
    return np.where(n > 0, lower, 0.0)


def passes_rule(counts: Counts, group_sizes: np.ndarray, overall: Counts,
                rule: Mapping[str, Any] | None = None,
                consensus: np.ndarray | None = None) -> np.ndarray:
    """Boolean per statement: does the rule escalate it under this grouping?"""
    pol = {**DEFAULT_RULE, **(rule or {})}
    ok = (overall.seen >= pol["min_votes"]) & (overall.agree >= pol["min_agrees"])
    eligible = np.asarray(group_sizes) >= pol["min_group_size"]
    if int(eligible.sum()) < pol["min_groups"]:
        return np.zeros(len(overall.seen), dtype=bool)
    lower = wilson_lower_bound(counts.agree[eligible], counts.seen[eligible], pol["confidence"])
    ok &= (lower >= pol["min_group_agree"]).all(axis=0)
    if pol["min_consensus"] is not None:
        if consensus is None:
            return np.zeros(len(overall.seen), dtype=bool)
        ok &= np.asarray(consensus) >= pol["min_consensus"]
    return ok


@dataclass(frozen=True)
class Grouping:
    """One plausible grouping: its name ("pca k=3"), counts and sizes."""

    name: str
    counts: Counts
    sizes: np.ndarray
    consensus: np.ndarray | None = None


@dataclass(frozen=True)
class Robustness:
    groupings: list[str]  # every grouping tried; the one in use first
    holds_for: dict[int, list[str]]  # escalated statement id -> groupings where the rule holds
    # every candidate statement the rule passes under some grouping -> those groupings
    holds_any: dict[int, list[str]] = field(default_factory=dict)

    def robust(self, tid: int) -> bool:
        return len(self.holds_for[tid]) == len(self.groupings)

    def fragile(self, tid: int) -> bool:
        return len(self.holds_for[tid]) == 1 and len(self.groupings) > 1

    def to_json_dict(self) -> dict:
        return {str(t): {"robust": self.robust(t), "fragile": self.fragile(t),
                         "holds_for": list(names)}
                for t, names in sorted(self.holds_for.items())}


def robustness(statement_ids: np.ndarray, candidates: np.ndarray, used: Grouping,
               others: Sequence[Grouping], overall: Counts,
               rule: Mapping[str, Any] | None = None) -> tuple[np.ndarray, Robustness]:
    """Escalations under ``used`` (restricted to ``candidates``) and where each also holds."""
    decide = passes_rule(used.counts, used.sizes, overall, rule, used.consensus) & candidates
    holds = {used.name: decide}
    for g in others:
        holds[g.name] = passes_rule(g.counts, g.sizes, overall, rule, g.consensus)
    names = [used.name] + [g.name for g in others]
    anywhere = np.logical_or.reduce([holds[name] for name in names]) & candidates
    holds_any = {int(statement_ids[j]): [name for name in names if holds[name][j]]
                 for j in np.flatnonzero(anywhere)}
    holds_for = {int(statement_ids[j]): holds_any[int(statement_ids[j])]
                 for j in np.flatnonzero(decide)}
    return decide, Robustness(names, holds_for, holds_any)
