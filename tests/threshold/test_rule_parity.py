"""The clustering library's vectorised rule decides exactly as the threshold engine."""

from __future__ import annotations

import numpy as np
import pytest

from clustering.rule import DEFAULT_RULE, passes_rule
from clustering.rule import wilson_lower_bound as wilson_vector
from clustering.stats import Counts
from deliberation.engine.threshold import (
    DEFAULT_POLICY,
    GroupCounts,
    evaluate,
    wilson_lower_bound,
)


def test_same_defaults():
    # the engine's extra criteria (bridging, robustness) are not part of the group rule
    assert {key: DEFAULT_POLICY[key] for key in DEFAULT_RULE} == DEFAULT_RULE


@pytest.mark.parametrize("policy", [
    {}, {"min_votes": 5, "min_group_agree": 0.6, "confidence": 0.95},
    {"min_groups": 3, "min_group_size": 8, "min_agrees": 12},
    {"min_consensus": 0.2},
])
def test_rule_matches_engine_on_random_counts(policy):
    rng = np.random.default_rng(len(policy))
    k, m = 4, 300
    seen = rng.integers(0, 40, size=(k, m))
    agree = rng.binomial(seen, rng.uniform(0.3, 0.95, size=(k, m)))
    disagree = rng.binomial(seen - agree, 0.7)
    sizes = rng.integers(2, 30, size=k)
    consensus = rng.uniform(0, 0.5, size=m)
    counts = Counts(agree, disagree, seen)
    overall = Counts(agree.sum(0), disagree.sum(0), seen.sum(0))
    got = passes_rule(counts, sizes, overall, {**DEFAULT_POLICY, **policy}, consensus)
    want = [evaluate(policy, [GroupCounts(g, int(sizes[g]), int(agree[g, j]),
                                          int(disagree[g, j]),
                                          int(seen[g, j] - agree[g, j] - disagree[g, j]))
                              for g in range(k)],
                     total_votes=int(seen[:, j].sum()), total_agrees=int(agree[:, j].sum()),
                     group_aware_consensus=float(consensus[j])).escalate
            for j in range(m)]
    assert got.tolist() == want
    assert 0 < sum(want) < m  # the sample exercises both outcomes


def test_wilson_bounds_equal():
    for a, n in [(0, 0), (0, 5), (5, 5), (8, 10), (13, 40)]:
        assert wilson_vector(a, n, 0.9) == pytest.approx(wilson_lower_bound(a, n, 0.9), abs=1e-12)
