"""UMAP option: base clusters laid out by umap-learn, everyone placed among them; a function
of the votes."""

import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from clustering import VoteData, analyze
from clustering.embedding import base_clusters, fuzzy_graph, membership_weights


def _points(n=80, dim=30, seed=1):
    rng = np.random.default_rng(seed)
    P = rng.normal(size=(n, dim))
    P[: n // 2] += 2.0
    return P


def _distances(P):
    sq = (P ** 2).sum(axis=1)
    D = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * P @ P.T, 0.0))
    np.fill_diagonal(D, 0.0)
    return D


# umap-learn's fuzzy set, run in a process of its own with numba's JIT off (numba's
# documented NUMBA_DISABLE_JIT): its kernels are not cached on disk, and compiling them
# costs about 9 s of CPU where running them uncompiled on 80 points costs a few
# milliseconds (the process itself about 3.5 s, most of it importing umap-learn).
FUZZY_SET_OF_UMAP_LEARN = """
import sys, warnings
import numpy as np
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from umap.umap_ import fuzzy_simplicial_set
data = np.load(sys.argv[1])
P, D = data["P"], data["D"]
idx = np.argsort(D, axis=1, kind="stable")[:, :15]
graph = fuzzy_simplicial_set(P, 15, np.random.RandomState(0), "euclidean", knn_indices=idx,
                             knn_dists=np.take_along_axis(D, idx, axis=1))[0].tocsr()
np.savez(sys.argv[2], data=graph.data, indices=graph.indices, indptr=graph.indptr,
         shape=graph.shape)
"""


@pytest.mark.slow  # starts a Python process that imports umap-learn
def test_fuzzy_graph_is_umap_learns(tmp_path):
    P = _points()
    D = _distances(P)
    np.savez(tmp_path / "points.npz", P=P, D=D)
    subprocess.run([sys.executable, "-c", FUZZY_SET_OF_UMAP_LEARN, str(tmp_path / "points.npz"),
                    str(tmp_path / "theirs.npz")], check=True, capture_output=True, timeout=300,
                   env={**os.environ, "NUMBA_DISABLE_JIT": "1"})
    found = np.load(tmp_path / "theirs.npz")
    theirs = sp.csr_matrix((found["data"], found["indices"], found["indptr"]),
                           shape=tuple(found["shape"]))
    ours = fuzzy_graph(D, 15).tocsr()
    assert ours.nnz == theirs.nnz
    # umap-learn computes in float32
    assert abs(ours - theirs).max() < 1e-5


def test_fuzzy_graph_is_a_symmetric_fuzzy_set():
    g = fuzzy_graph(_distances(_points()), 15).tocsr()
    assert abs(g - g.T).max() == 0
    assert g.diagonal().max() == 0 and g.data.min() > 0 and g.data.max() <= 1 + 1e-12
    # each point fully belongs with its nearest neighbour
    np.testing.assert_allclose(g.max(axis=1).toarray().ravel(), 1.0)


def test_placement_weights_sum_to_one_and_a_coincident_point_takes_that_place():
    d = np.abs(np.random.default_rng(0).normal(size=(6, 20))) + 0.1
    d[2, 7] = 0.0
    order, w = membership_weights(d, 15)
    assert order.shape == w.shape == (6, 15)
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    assert (np.diff(np.take_along_axis(d, order, axis=1), axis=1) >= 0).all()
    assert order[2, 0] == 7 and w[2, 0] == 1.0 and (w[2, 1:] == 0).all()


def test_base_clusters_cover_everyone_and_drop_empty_ones():
    P = np.repeat(_points(10, 5), 3, axis=0)  # every row three times
    labels, centres, d2 = base_clusters(sp.csr_matrix(P), 20)
    assert len(centres) <= 10 and labels.max() == len(centres) - 1
    assert set(labels.tolist()) == set(range(len(centres)))
    assert d2.shape == (30, len(centres)) and (d2.argmin(axis=1) == labels).all()


def test_umap_of_a_tiny_round_falls_back_to_pca():
    data = VoteData.from_arrays(np.array([1, 1, 2, 2, 3]), np.array([1, 2, 1, 2, 1]),
                                np.array([1, -1, -1, 1, 0]))
    a = analyze(data, method="umap")
    assert a.manifest["reducer"] == "pca" and np.isfinite(a.projection).all()


@pytest.mark.slow  # umap-learn's layout is compiled once per process
def test_umap_of_a_small_round_starts_from_random_positions_and_repeats_itself():
    from clustering.synthetic import planted_conversation

    data, _ = planted_conversation(40, 20, density=0.8, n_groups=2, seed=3)
    a = analyze(data, method="umap")
    b = analyze(data, method="umap")
    assert a.manifest["reducer"] == "umap" and np.isfinite(a.projection).all()
    np.testing.assert_array_equal(a.projection, b.projection)
    assert (a.labels == b.labels).all()


@pytest.mark.slow  # umap-learn's layout is compiled once per process
def test_umap_groups_and_positions_do_not_depend_on_the_order_of_statements_or_people():
    """Another database numbers the same round's statements in another order, and its
    participants otherwise: the same votes must put the same people in the same places.
    Nor does a previous run that oriented the PCA axes the other way."""
    import dataclasses

    from clustering.synthetic import planted_conversation

    data, _ = planted_conversation(150, 24, density=0.6, n_groups=3, seed=4)
    rng = np.random.default_rng(0)
    statement_to = dict(zip(data.statement_ids.tolist(),
                            rng.permutation(data.statement_ids).tolist(), strict=True))
    person_to = dict(zip(np.unique(data.participant).tolist(),
                         (rng.permutation(1_000)[:150] + 1).tolist(), strict=True))
    rows = rng.permutation(len(data.value))
    other = VoteData.from_arrays(
        [person_to[p] for p in data.participant[rows].tolist()],
        [statement_to[s] for s in data.statement[rows].tolist()],
        data.value[rows], data.timestamp[rows] if data.timestamp is not None else None,
        statement_ids=list(statement_to.values()))

    def placed(d: VoteData, rename: dict | None = None, warm_start=None):
        a = analyze(d, method="umap", warm_start=warm_start)
        assert a.manifest["reducer"] == "umap"
        back = {v: k for k, v in (rename or {}).items()}
        return {back.get(p, p): (g, x, y) for p, g, (x, y) in
                zip(a.participant_ids.tolist(), a.labels.tolist(), a.projection.tolist(),
                    strict=True)}

    here = placed(data)
    pca_state = analyze(data).warm_start
    flipped = dataclasses.replace(pca_state, method="umap", group_centres=[],
                                  comps=(-np.asarray(pca_state.comps)).tolist())
    for there in (placed(other, person_to), placed(data, warm_start=flipped)):
        assert here.keys() == there.keys()
        for p, (g, x, y) in here.items():
            assert there[p][0] == g
            np.testing.assert_allclose(there[p][1:], (x, y), atol=1e-9)


@pytest.mark.slow  # umap-learn's layout is compiled once per process
def test_a_vote_from_someone_in_no_group_moves_no_umap_group_nor_escalation(polis_dir):
    """A newcomer's first vote does not make them a member of any group (Pol.is's in-conv
    rule), so it must not regroup everyone else and change what goes to the council.
    bg2050-volunteers (CC BY 4.0, The Computational Democracy Project): with everyone's
    rows shaping the layout, this one vote moved most people (adjusted Rand index about 0)
    and changed 31-52 of 167 escalations."""
    from clustering import read_export

    data = VoteData.from_export(read_export(polis_dir("bg2050-volunteers")))
    statement = next(t for t in data.statement_ids.tolist() if t not in set(data.excluded_ids))
    newcomer = int(data.participant.max()) + 1
    plus_one = VoteData.from_arrays(
        np.r_[data.participant, newcomer], np.r_[data.statement, statement],
        np.r_[data.value, 1], np.r_[data.timestamp, data.timestamp.max() + 60],
        statement_ids=data.statement_ids, excluded_ids=data.excluded_ids,
        meta_ids=data.meta_ids)

    def outcome(d: VoteData):
        a = analyze(d, method="umap")
        assert a.manifest["reducer"] == "umap" and a.k >= 2
        groups = dict(zip(a.participant_ids.tolist(), a.labels.tolist(), strict=True))
        return groups, a.statement_ids[a.escalates].tolist()

    groups, escalated = outcome(data)
    groups_after, escalated_after = outcome(plus_one)
    assert groups_after.pop(newcomer) == -1  # not grouped
    assert groups_after == groups
    assert escalated_after == escalated


@pytest.mark.slow  # umap-learn's layout is compiled once per process
def test_umap_finds_planted_groups_when_many_people_vote_only_a_little():
    """In real rounds many people vote a few times (vtaiwan.uberx: 700 of 1,921 are in no
    group). Scaled up to the round's size, their few votes made far-out rows that took the
    base clusters, and UMAP found almost nothing of three planted groups (adjusted Rand
    index 0.03)."""
    from sklearn.metrics import adjusted_rand_score

    from clustering.synthetic import planted_conversation

    data, truth = planted_conversation(2000, 200, density=0.15, n_groups=3, seed=0)
    rng = np.random.default_rng(100)
    light = rng.random(2000) < 0.35  # these keep 1 to 6 of their votes
    cap = rng.integers(1, 7, size=2000)
    rows = rng.permutation(len(data.value))
    person = data.participant[rows]
    nth = np.zeros(len(rows), dtype=np.int64)  # each vote's rank among its voter's
    counts = np.unique(person, return_counts=True)[1]
    nth[np.argsort(person, kind="stable")] = (np.arange(len(rows))
                                              - np.repeat(np.cumsum(counts) - counts, counts))
    keep = rows[~light[person] | (nth < cap[person])]
    sparse = VoteData.from_arrays(data.participant[keep], data.statement[keep],
                                  data.value[keep], statement_ids=data.statement_ids)
    a = analyze(sparse, method="umap")
    grouped = a.labels >= 0
    assert adjusted_rand_score(truth[a.participant_ids[grouped]], a.labels[grouped]) > 0.8
