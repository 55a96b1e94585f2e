"""The escalation rule, case by case (pure function, no database)."""

from __future__ import annotations

import math

import pytest

from deliberation.engine.threshold import (
    CONSENSUS_BELOW_THRESHOLD,
    CONSENSUS_MISSING,
    GROUP_BELOW_THRESHOLD,
    TOO_FEW_AGREES,
    TOO_FEW_GROUPS,
    TOO_FEW_VOTES,
    GroupCounts,
    PolicyError,
    evaluate,
    explain,
    wilson_lower_bound,
)


def g(gid: int, agree: int, disagree: int = 0, passes: int = 0, size: int | None = None):
    return GroupCounts(gid, size if size is not None else agree + disagree + passes,
                       agree, disagree, passes)


def run(groups, policy=None, **kw):
    total = sum(x.seen for x in groups)
    agrees = sum(x.agree for x in groups)
    return evaluate(policy or {}, groups, total_votes=kw.pop("total_votes", total),
                    total_agrees=kw.pop("total_agrees", agrees), **kw)


def test_wilson_matches_textbook_value():
    # 8/10 at 90% one-sided: z = 1.28155
    z = 1.2815515655446004
    p, n = 0.8, 10
    expected = (p + z * z / (2 * n) - z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (
        1 + z * z / n)
    assert wilson_lower_bound(8, 10, 0.9) == pytest.approx(expected, abs=1e-12)
    assert wilson_lower_bound(0, 0, 0.9) == 0.0
    assert wilson_lower_bound(0, 5, 0.9) == 0.0
    assert wilson_lower_bound(10, 10, 0.9) < 1.0


def test_agreement_in_every_group_escalates():
    d = run([g(0, 18, 2), g(1, 17, 3)])
    assert d.escalate and d.reasons == []
    assert all(x.eligible and not x.blocking for x in d.groups)
    assert d.support == min(x.lower_bound for x in d.groups)


def test_raw_majority_carried_by_one_big_group_does_not_escalate():
    # 95 + 2 agree of 110: 88% overall, but group 1 is against it.
    d = run([g(0, 95, 5, size=100), g(1, 2, 8, size=10)])
    assert (95 + 2) / 110 > 0.8
    assert not d.escalate
    assert d.reasons == [GROUP_BELOW_THRESHOLD]
    assert [x.blocking for x in d.groups] == [False, True]


def test_one_group_failing_blocks():
    d = run([g(0, 20), g(1, 20), g(2, 5, 15)])
    assert not d.escalate and d.reasons == [GROUP_BELOW_THRESHOLD]
    assert [x.group_id for x in d.groups if x.blocking] == [2]


def test_tiny_groups_are_reported_but_do_not_block():
    d = run([g(0, 20), g(1, 20), g(2, 0, 4, size=4)])
    assert d.escalate
    tiny = d.groups[2]
    assert not tiny.eligible and not tiny.blocking and tiny.disagree == 4


def test_tiny_groups_do_not_count_towards_min_groups():
    d = run([g(0, 30), g(1, 3, size=3)])
    assert not d.escalate and d.reasons == [TOO_FEW_GROUPS]


def test_no_groups():
    d = evaluate({}, [], total_votes=100, total_agrees=100)
    assert not d.escalate and d.reasons == [TOO_FEW_GROUPS]
    assert d.support == 0.0 and d.groups == []


def test_all_passes():
    d = run([g(0, 0, 0, 20), g(1, 0, 0, 20)])
    assert not d.escalate and GROUP_BELOW_THRESHOLD in d.reasons
    assert all(x.share == 0 and x.lower_bound == 0 for x in d.groups)


def test_passes_count_in_the_denominator():
    # 12 agree, 0 disagree, 12 pass: only half agree.
    d = run([g(0, 12, 0, 12), g(1, 20)])
    assert not d.escalate and d.groups[0].share == 0.5


def test_min_votes_boundary():
    groups = [g(0, 10), g(1, 10)]  # 20 votes
    assert run(groups, {"min_votes": 20}).escalate
    d = run(groups, {"min_votes": 21})
    assert not d.escalate and d.reasons == [TOO_FEW_VOTES]


def test_min_agrees_floor():
    groups = [g(0, 10), g(1, 10)]
    assert run(groups, {"min_agrees": 20}).escalate
    d = run(groups, {"min_agrees": 5000})
    assert d.reasons == [TOO_FEW_AGREES]


def test_min_group_agree_boundary_is_inclusive():
    groups = [g(0, 8, 2), g(1, 9, 1)]
    lower = wilson_lower_bound(8, 10, 0.9)
    assert run(groups, {"min_group_agree": lower, "min_votes": 0}).escalate
    d = run(groups, {"min_group_agree": lower + 1e-9, "min_votes": 0})
    assert not d.escalate and [x.blocking for x in d.groups] == [True, False]


def test_min_group_size_boundary():
    groups = [g(0, 20), g(1, 5, size=5), g(2, 0, 5, size=5)]
    assert not run(groups, {"min_group_size": 5}).escalate  # group 2 blocks
    d = run(groups, {"min_group_size": 6})
    assert d.reasons == [TOO_FEW_GROUPS]  # only group 0 is eligible


def test_min_consensus():
    groups = [g(0, 20), g(1, 20)]
    assert run(groups, {"min_consensus": 0.8}, group_aware_consensus=0.9).escalate
    assert run(groups, {"min_consensus": 0.8},
               group_aware_consensus=0.7).reasons == [CONSENSUS_BELOW_THRESHOLD]
    assert run(groups, {"min_consensus": 0.8}).reasons == [CONSENSUS_MISSING]
    assert run(groups, {"min_consensus": None}, group_aware_consensus=0.1).escalate


def test_several_reasons_are_all_reported():
    d = evaluate({}, [g(0, 1, 3, size=5)], total_votes=4, total_agrees=1)
    assert d.reasons == [TOO_FEW_VOTES, TOO_FEW_GROUPS, GROUP_BELOW_THRESHOLD]


@pytest.mark.parametrize("bad", [
    {"confidence": 1.0}, {"confidence": 0.2}, {"min_group_agree": 1.5},
    {"min_votes": -1}, {"min_groups": 0}, {"min_consensus": 2}, {"min_votes": "x"},
    {"min_votes": 10_000_001}, {"min_group_size": 10**23}, {"min_groups": 13},
])
def test_bad_policy_is_rejected(bad):
    with pytest.raises(PolicyError):
        evaluate(bad, [], total_votes=0, total_agrees=0)


def test_explain_values():
    e = explain({"min_group_agree": 0.6})
    assert e["min_group_agree_pct"] == 60 and e["confidence_pct"] == 90
    assert e["min_groups"] == 2 and e["min_consensus_pct"] is None
    assert explain({"min_consensus": 0.25})["min_consensus_pct"] == 25


def test_decision_serialises():
    d = run([g(0, 20), g(1, 20)])
    data = d.to_dict()
    assert data["escalate"] is True and len(data["groups"]) == 2
    assert data["policy"]["min_votes"] == 20
