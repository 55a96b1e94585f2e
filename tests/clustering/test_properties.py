"""Property tests: any small vote matrix, no crash, stable and order-independent output."""

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clustering import VoteData, WarmStart, analyze
from clustering.matrix import stable_argsort


@st.composite
def vote_sets(draw):
    n_p = draw(st.integers(1, 25))
    n_s = draw(st.integers(1, 9))
    cells = draw(st.lists(st.tuples(st.integers(0, n_p - 1), st.integers(0, n_s - 1)),
                          min_size=1, max_size=n_p * n_s, unique=True))
    vals = draw(st.lists(st.sampled_from([-1, 0, 1]), min_size=len(cells),
                         max_size=len(cells)))
    pids = draw(st.lists(st.integers(0, 10_000), min_size=n_p, max_size=n_p, unique=True))
    excluded = draw(st.sets(st.integers(0, n_s - 1), max_size=2))
    p = np.array([pids[c[0]] for c in cells])
    s = np.array([c[1] for c in cells])
    return p, s, np.array(vals), n_s, excluded


SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _json(a):
    return json.dumps(a.to_json_dict(), sort_keys=False)


@pytest.mark.slow  # many generated matrices, each clustered
@SETTINGS
@given(vote_sets(), st.integers(0, 3), st.randoms(use_true_random=False))
def test_any_small_matrix(vs, seed, rnd):
    p, s, v, n_s, excluded = vs
    data = VoteData.from_arrays(p, s, v, statement_ids=range(n_s), excluded_ids=excluded)
    a = analyze(data, seed=seed, base_k=10)
    # labels exactly for the clustered participants
    assert ((a.labels >= 0) == a.in_conv).all()
    assert set(a.labels[a.in_conv].tolist()) == set(range(a.k))
    assert a.group_sizes.sum() == a.in_conv.sum()
    assert np.isfinite(a.projection).all()
    assert all(np.isfinite(x) for x in a.priorities.values())
    # same seed -> byte-identical JSON
    out = _json(a)
    assert _json(analyze(data, seed=seed, base_k=10)) == out
    # row order of the input does not matter
    perm = list(range(len(p)))
    rnd.shuffle(perm)
    shuffled = VoteData.from_arrays(p[perm], s[perm], v[perm],
                                    statement_ids=list(range(n_s))[::-1],
                                    excluded_ids=excluded)
    assert _json(analyze(shuffled, seed=seed, base_k=10)) == out
    # the warm-start state survives JSON
    ws = WarmStart.from_dict(json.loads(json.dumps(a.warm_start.to_dict())))
    assert ws.to_dict() == a.warm_start.to_dict()
    b = analyze(data, seed=seed, base_k=10, warm_start=ws)
    assert ((b.labels >= 0) == b.in_conv).all()


@pytest.mark.slow  # many generated matrices, each clustered
@SETTINGS
@given(vote_sets())
def test_membership_mode_uses_given_groups(vs):
    p, s, v, n_s, excluded = vs
    pids = sorted(set(p.tolist()))
    membership = {pid: (i % 3 if i % 4 else None) for i, pid in enumerate(pids)}
    a = analyze(VoteData.from_arrays(p, s, v, statement_ids=range(n_s), excluded_ids=excluded),
                membership=membership)
    got = dict(zip(a.participant_ids.tolist(), a.labels.tolist(), strict=True))
    assert got == {pid: (-1 if g is None else g) for pid, g in membership.items()}
    assert a.k == len({g for g in membership.values() if g is not None})


@pytest.mark.parametrize("low, high", [(0, 50), (-(2**40), 2**40), (-(2**62), 2**62)])
def test_stable_argsort_is_numpys_stable_argsort(low: int, high: int) -> None:
    """Keys with many repeats, negative keys, and keys too far apart to pack (the
    fallback) all come out in NumPy's stable order."""
    rng = np.random.default_rng(7)
    for n in (0, 1, 2, 1000):
        keys = rng.integers(low, high, n, dtype=np.int64)
        keys[: n // 2] = keys[n // 2: 2 * (n // 2)]  # every value at least twice
        assert np.array_equal(stable_argsort(keys), np.argsort(keys, kind="stable"))
