"""Unit tests of the building blocks against direct (dense, loop) re-statements of Pol.is."""

import numpy as np
import pytest

from clustering import VoteData, WarmStart, analyze
from clustering import pca as pca_mod
from clustering.matrix import build_matrix, select_in_conv
from clustering.pca import centred_matrix, pca, project_participants, project_statements
from clustering.priority import priorities
from clustering.stats import prop_test, two_prop_test
from clustering.synthetic import planted_conversation


def test_prop_tests_match_stats_clj():
    # (prop-test 3 10) = 2 * sqrt(11) * (4/11 - 0.5)
    assert prop_test(3, 10) == pytest.approx(2 * np.sqrt(11) * (4 / 11 - 0.5))
    s1, s2, n1, n2 = 4, 2, 11, 21
    pi1, pi2, ph = s1 / n1, s2 / n2, (s1 + s2) / (n1 + n2)
    expect = (pi1 - pi2) / np.sqrt(ph * (1 - ph) * (1 / n1 + 1 / n2))
    assert two_prop_test(3, 1, 10, 20) == pytest.approx(expect)
    assert two_prop_test(5, 5, 5, 5) == 0.0  # pi-hat == 1


def test_priority_formula():
    # importance (1 - (P+1)/(S+2)) * (E+1) * (A+1)/(S+2), times 1 + 8 * 2^(-S/5), squared
    A, D, S, E = 18.0, 3.0, 24.0, 1.0
    P = S - A - D
    imp = (1 - (P + 1) / (S + 2)) * (E + 1) * (A + 1) / (S + 2)
    expect = (imp * (1 + 8 * 2 ** (-S / 5))) ** 2
    got = priorities([A, 0], [D, 0], [S, 0], [E, 0], [False, True])
    assert got[0] == pytest.approx(expect)
    assert got[1] == 49.0


def test_latest_vote_wins():
    d = VoteData.from_arrays([1, 1, 1, 2], [5, 5, 5, 5], [1, -1, 0, 1], [30, 10, 20, 1])
    vm = build_matrix(d)
    assert vm.vals.tolist() == [1, 1]  # participant 1: timestamp 30 wins
    d = VoteData.from_arrays([1, 1, 1], [5, 5, 5], [1, -1, 0])
    assert build_matrix(d).vals.tolist() == [0]  # no timestamps: last row wins


def test_of_two_votes_at_the_same_time_the_later_row_wins():
    # Hiroba's open data gives each vote its day: a vote changed that day is the later row
    d = VoteData.from_arrays([1, 1, 2, 2], [5, 5, 5, 5], [1, -1, -1, 1], [10, 10, 10, 10])
    assert build_matrix(d).vals.tolist() == [-1, 1]


def test_statement_without_votes_exists():
    d = VoteData.from_arrays([1, 2], [5, 5], [1, -1], statement_ids=[5, 9])
    a = analyze(d)
    assert a.statement_ids.tolist() == [5, 9]
    assert set(a.group_aware_consensus) == {5, 9}


def test_in_conv_threshold_and_top_up():
    # 20 statements; participants 0..19 cast 0..19 votes
    p = np.repeat(np.arange(20), np.arange(20))
    s = np.concatenate([np.arange(k) for k in range(20)])
    vm = build_matrix(VoteData.from_arrays(p, s, np.ones(len(p))))
    mask = select_in_conv(vm)
    # participants 7..19 have >= 7 votes (13); topped up to 15 with the next most active (6, 5)
    assert vm.participant_ids[mask].tolist() == list(range(5, 20))
    # few statements: threshold is the number of statements
    vm = build_matrix(VoteData.from_arrays([1, 1, 2], [0, 1, 0], [1, 1, 1]))
    assert select_in_conv(vm, greedy_n=0).tolist() == [True, False]


def _dense_reference(vm):
    """Pol.is pca.clj on a dense matrix with NaN for missing: imputation, PCA, projection."""
    n, m = vm.shape
    M = np.full((n, m), np.nan)
    M[vm.rows, vm.cols] = vm.vals
    M[:, vm.excluded & ~np.all(np.isnan(M), axis=0)] = 0.0  # zero-out-columns
    voted = ~np.all(np.isnan(M), axis=0)
    M = M[:, voted]
    center = np.nanmean(M, axis=0)
    imputed = np.where(np.isnan(M), center, M)
    Cd = imputed - imputed.mean(axis=0)
    w, v = np.linalg.eigh(Cd.T @ Cd)
    comps = v[:, np.argsort(-w)[:2]].T
    proj = []
    for row in M:
        has = ~np.isnan(row)
        p = ((row[has] - center[has]) @ comps[:, has].T) * np.sqrt(m_cols := M.shape[1]) \
            / np.sqrt(max(has.sum(), 1))
        proj.append(p)
    del m_cols
    return np.array(proj), comps, voted


@pytest.mark.parametrize("dense_limit", [400, 0])
def test_sparse_pca_matches_dense_pol_is(monkeypatch, dense_limit):
    monkeypatch.setattr(pca_mod, "_DENSE_LIMIT", dense_limit)
    data, _ = planted_conversation(120, 30, density=0.4, n_groups=3, seed=3)
    data = VoteData.from_arrays(data.participant, data.statement, data.value,
                                statement_ids=np.arange(32), excluded_ids=[4, 7])
    vm = build_matrix(data)
    C, center, voted = centred_matrix(vm)
    res = pca(vm, C, center, voted)
    proj = project_participants(vm, C, res)
    ref_proj, ref_comps, ref_voted = _dense_reference(vm)
    for i in range(2):  # sign is arbitrary: align
        sign = np.sign(ref_comps[i] @ res.comps[i, ref_voted])
        np.testing.assert_allclose(res.comps[i, ref_voted], sign * ref_comps[i], atol=1e-8)
        np.testing.assert_allclose(proj[:, i], sign * ref_proj[:, i], atol=1e-8)
    assert np.all(res.comps[:, ~ref_voted] == 0)


def test_statement_extremity_is_projection_of_lone_agree():
    data, _ = planted_conversation(80, 12, density=0.5, seed=4)
    vm = build_matrix(data)
    C, center, voted = centred_matrix(vm)
    res = pca(vm, C, center, voted)
    proj, ext = project_statements(res)
    j = 5
    expect = np.sqrt(res.n_cols) * (1 - center[j]) * res.comps[:, j]
    np.testing.assert_allclose(proj[j], expect)
    assert ext[j] == pytest.approx(np.linalg.norm(expect))


def test_excluded_statements_zeroed_and_not_selected():
    data, _ = planted_conversation(200, 20, density=0.6, seed=5)
    tids = np.arange(20)
    a = analyze(VoteData.from_arrays(data.participant, data.statement, data.value,
                                     statement_ids=tids))
    best = a.repness[0][0].tid
    top_cons = a.consensus["agree"][0].tid if a.consensus["agree"] else best
    excl = {best, top_cons}
    flipped = data.value.copy()
    flipped[np.isin(data.statement, list(excl))] *= -1
    b = analyze(VoteData.from_arrays(data.participant, data.statement, flipped,
                                     statement_ids=tids, excluded_ids=excl))
    c = analyze(VoteData.from_arrays(data.participant, data.statement, data.value,
                                     statement_ids=tids, excluded_ids=excl))
    # values on excluded statements do not move anyone
    np.testing.assert_allclose(b.projection, c.projection)
    for rows in b.repness.values():
        assert not excl & {r.tid for r in rows}
    assert not excl & {x.tid for v in b.consensus.values() for x in v}
    # but they still get counts and group-aware consensus
    j = int(np.searchsorted(b.statement_ids, best))
    assert b.overall_counts.seen[j] > 0 and 0 < b.group_aware_consensus[best] < 1


def test_more_than_five_groups_when_allowed():
    data, truth = planted_conversation(1200, 60, density=0.6, n_groups=6, strength=5,
                                       pass_rate=0.05, planar=True, seed=0)
    from sklearn.metrics import adjusted_rand_score

    a = analyze(data, max_groups=8)
    assert a.k == 6
    assert adjusted_rand_score(truth[a.participant_ids], a.labels) > 0.85
    assert analyze(data).k <= 5


def test_group_aware_consensus_formula():
    # two groups: group 0 = participants 0,1; group 1 = participant 2
    d = VoteData.from_arrays([0, 1, 2, 0], [7, 7, 7, 8], [1, 0, -1, 1])
    a = analyze(d, membership={0: 0, 1: 0, 2: 1})
    assert a.group_aware_consensus[7] == pytest.approx((2 / 4) * (1 / 3))
    assert a.group_aware_consensus_disagree[7] == pytest.approx((1 / 4) * (2 / 3))
    assert a.group_aware_consensus[8] == pytest.approx((2 / 3) * (1 / 2))


@pytest.mark.parametrize(
    ("p", "s", "v", "k"),
    [([], [], [], 0), ([1], [1], [1], 1), ([1, 2], [1, 1], [1, -1], 2)],
)
def test_tiny_inputs(p, s, v, k):
    a = analyze(VoteData.from_arrays(p, s, v, statement_ids=[1, 2]))
    assert a.k == k
    assert a.to_json_dict()["k"] == k
    assert set(a.priorities) == {1, 2}


def test_large_and_negative_ids_take_the_sorting_path():
    data, _ = planted_conversation(150, 12, density=0.5, seed=9)
    a = analyze(data)
    big = VoteData.from_arrays(data.participant * 10**12 - 5, data.statement * 10**10,
                               data.value[::-1][::-1], statement_ids=np.arange(12) * 10**10)
    b = analyze(big)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_allclose(a.projection, b.projection)
    assert b.participant_ids[0] == -5


def test_in_conv_depends_on_the_votes_not_on_history():
    # 20 participants with 8 votes each; participant 100 has 2 votes
    p = np.concatenate([np.repeat(np.arange(20), 8), [100, 100]])
    s = np.concatenate([np.tile(np.arange(8), 20), [0, 1]])
    vm = build_matrix(VoteData.from_arrays(p, s, np.ones(len(p))))
    assert not select_in_conv(vm)[-1]
    a = analyze(VoteData.from_arrays(p, s, np.ones(len(p))))
    # a state stored by an older version that had placed participant 100 (it kept the
    # placed participants) does not keep them placed
    stored = {**a.warm_start.to_dict(), "in_conv_ids": [*range(20), 100]}
    assert "in_conv_ids" not in a.warm_start.to_dict()
    b = analyze(VoteData.from_arrays(p, s, np.ones(len(p))),
                warm_start=WarmStart.from_dict(stored))
    assert not b.in_conv[-1] and b.labels[-1] == -1
    np.testing.assert_array_equal(a.labels, b.labels)
