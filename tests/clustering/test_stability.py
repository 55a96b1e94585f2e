"""Escalations belong to the votes: not to the seed, the participant ids or the row order;
bridging scores; robustness of each escalation to the grouping."""

import json

import numpy as np
import pytest

from clustering import VoteData, analyze, read_export
from clustering.rule import Grouping, robustness
from clustering.stats import Counts


def _planted(seed: int = 0):
    """Two sides (60 and 40 people) split on statements 0-15; statement 16 is supported by
    both sides, statement 17 only by the larger side (a 60 % majority)."""
    rng = np.random.default_rng(seed)
    n_a, n_b, m = 60, 40, 18
    side = np.r_[np.zeros(n_a, int), np.ones(n_b, int)]
    p, s, v = [], [], []
    for person in range(n_a + n_b):
        for t in range(m):
            if t < 8:
                agree = side[person] == 0
            elif t < 16:
                agree = side[person] == 1
            elif t == 16:
                agree = True
            else:
                agree = side[person] == 0
            if rng.random() < 0.08:  # a little noise
                agree = not agree
            p.append(person)
            s.append(t)
            v.append(1 if agree else -1)
    ts = np.arange(len(p), dtype=np.float64)
    return np.array(p), np.array(s), np.array(v), ts


def _data(p, s, v, ts):
    return VoteData.from_arrays(p, s, v, ts, statement_ids=range(18))


def _escalated(a) -> list[int]:
    return a.statement_ids[a.escalates].tolist()


def _relabelled_and_shuffled(p, s, v, ts, seed):
    rng = np.random.default_rng(seed)
    new_ids = rng.permutation(10_000)[: p.max() + 1] + 7
    order = rng.permutation(len(p))
    return new_ids[p][order], s[order], v[order], ts[order]


def test_both_sides_escalates_and_majority_never_whatever_the_seed_ids_or_order():
    p, s, v, ts = _planted()
    base = analyze(_data(p, s, v, ts))
    assert base.k == 2
    assert _escalated(base) == [16]
    assert base.robustness.robust(16)
    for seed in range(10):
        a = analyze(_data(*_relabelled_and_shuffled(p, s, v, ts, seed)), seed=seed)
        assert _escalated(a) == [16]
        assert sorted(np.bincount(a.labels[a.labels >= 0]).tolist()) == [40, 60]


@pytest.mark.slow  # umap-learn's layout is compiled once per process
def test_umap_escalations_and_positions_belong_to_the_votes():
    p, s, v, ts = _planted()
    base = analyze(_data(p, s, v, ts), method="umap")
    assert base.manifest["reducer"] == "umap" and base.k == 2
    assert _escalated(base) == [16]
    where = dict(zip(base.participant_ids.tolist(), base.projection.tolist(), strict=True))
    for seed in (0, 1):
        rng = np.random.default_rng(seed)
        new_ids = rng.permutation(10_000)[: p.max() + 1] + 7
        a = analyze(_data(*_relabelled_and_shuffled(p, s, v, ts, seed)), method="umap",
                    seed=seed)
        assert _escalated(a) == [16]
        assert sorted(np.bincount(a.labels[a.labels >= 0]).tolist()) == [40, 60]
        back = dict(zip(new_ids.tolist(), range(len(new_ids)), strict=False))
        for pid, xy in zip(a.participant_ids.tolist(), a.projection.tolist(), strict=True):
            assert xy == where[back[pid]]


def test_bridging_scores_bridge_above_one_side():
    p, s, v, ts = _planted()
    b = analyze(_data(p, s, v, ts)).bridging
    intercept = dict(zip(b.statement_ids.tolist(), b.intercept.tolist(), strict=True))
    factor = dict(zip(b.statement_ids.tolist(), b.factor.tolist(), strict=True))
    assert intercept[16] == max(intercept.values())
    assert intercept[16] > intercept[17] + 0.2
    # the one-sided statement is explained by the axis of disagreement
    assert abs(factor[17]) > 5 * abs(factor[16])
    # ids and order do not change the fit
    other = analyze(_data(*_relabelled_and_shuffled(p, s, v, ts, 3))).bridging
    np.testing.assert_array_equal(other.intercept, b.intercept)
    np.testing.assert_array_equal(other.factor, b.factor)


def _counts(agree, seen):
    agree, seen = np.array(agree), np.array(seen)
    return Counts(agree, np.zeros_like(agree), seen)


def test_escalation_that_holds_for_one_grouping_only_is_fragile():
    # statements 0 and 1, two groups of 30 in the grouping in use: both pass there
    overall = _counts([50, 50], [60, 60])
    used = Grouping("pca k=2", _counts([[25, 25], [25, 25]], [[30, 30], [30, 30]]),
                    np.array([30, 30]))
    # with three groups, statement 1 has a group at 5 / 20
    k3 = Grouping("pca k=3", _counts([[20, 20], [20, 20], [18, 5]], [[20, 20], [20, 20],
                                                                     [20, 20]]),
                  np.array([20, 20, 20]))
    k4 = Grouping("pca k=4", _counts([[15, 15], [15, 15], [10, 10], [10, 3]],
                                     [[15, 15], [15, 15], [15, 15], [15, 15]]),
                  np.array([15, 15, 15, 15]))
    decide, rob = robustness(np.array([0, 1]), np.array([True, True]), used, [k3, k4],
                             overall)
    assert decide.tolist() == [True, True]
    assert rob.holds_for == {0: ["pca k=2", "pca k=3", "pca k=4"], 1: ["pca k=2"]}
    assert rob.robust(0) and not rob.fragile(0)
    assert rob.fragile(1) and not rob.robust(1)
    assert rob.to_json_dict()["1"] == {"robust": False, "fragile": True,
                                       "holds_for": ["pca k=2"]}
    # a statement the rule does not escalate gets no entry, even if others would pass it
    decide, rob = robustness(np.array([0, 1]), np.array([True, False]), used, [k3, k4],
                             overall)
    assert decide.tolist() == [True, False] and list(rob.holds_for) == [0]


def _copies(path, seeds=range(3)):
    """(seed, VoteData, new id -> original id) for the export and relabelled + shuffled
    copies of its votes."""
    export = read_export(path)
    data = VoteData.from_export(export)
    ids = np.unique(data.participant)
    yield 0, data, {int(p): int(p) for p in ids}
    for seed in seeds:
        rng = np.random.default_rng(seed + 1)
        new_ids = rng.permutation(10 * len(ids))[: len(ids)] + 7
        relabel = new_ids[np.searchsorted(ids, data.participant)]
        order = rng.permutation(len(relabel))
        copy = VoteData(relabel[order], data.statement[order], data.value[order],
                        data.timestamp[order], data.statement_ids, data.excluded_ids,
                        data.meta_ids)
        yield seed + 1, copy, dict(zip(new_ids.tolist(), ids.tolist(), strict=True))


def _fingerprint(a):
    """What must not change: escalations, robustness, group structure, bridging."""
    groups = sorted(sorted(np.flatnonzero(a.labels == g).size for g in range(a.k)))
    return (a.k, groups, _escalated(a), json.dumps(a.robustness.to_json_dict()),
            a.bridging.intercept.round(12).tolist(), a.group_sizes.tolist())


def _same_partition(a, b, id_map):
    """Pairwise identical groups once b's ids are mapped back."""
    mine = dict(zip(a.participant_ids.tolist(), a.labels.tolist(), strict=True))
    theirs = {id_map[p]: g for p, g in zip(b.participant_ids.tolist(), b.labels.tolist(),
                                           strict=True)}
    return mine == theirs


@pytest.mark.parametrize("name", ["15-per-hour-seattle", "bg2050-volunteers"])
def test_shared_conversation_is_deterministic(polis_dir, name):
    runs = [(analyze(d, seed=seed), id_map) for seed, d, id_map in _copies(polis_dir(name))]
    first = runs[0][0]
    for a, id_map in runs[1:]:
        assert _fingerprint(a) == _fingerprint(first)
        assert _same_partition(first, a, id_map)  # the same people in the same groups


@pytest.mark.slow
@pytest.mark.parametrize("name", ["vtaiwan.uberx", "scoop-hivemind.biodiversity"])
def test_large_shared_conversation_is_deterministic(polis_dir, name):
    first = None
    for seed, d, _ in _copies(polis_dir(name), seeds=range(1)):
        a = analyze(d, seed=seed)
        first = first or _fingerprint(a)
        assert _fingerprint(a) == first


def test_cli_output_has_bridging_and_robust_flags(polis_dir, capsys):
    from clustering.cli import main

    assert main(["analyze", str(polis_dir("bg2050-volunteers"))]) == 0
    out = json.loads(capsys.readouterr().out)
    # older keys unchanged, new keys added
    assert list(out)[:3] == ["k", "participants", "group_aware_consensus"]
    b = out["bridging"]
    assert set(b) == set(out["extremity"])  # every statement
    some = next(v for v in b.values() if v["n"])
    assert set(some) == {"intercept", "factor", "n"} and isinstance(some["intercept"], float)
    esc = out["escalations"]
    assert esc and all(set(e) == {"robust", "fragile", "holds_for"} for e in esc.values())
    assert all(e["holds_for"][0] == "pca k=2" for e in esc.values())
    assert out["manifest"]["groupings"][0] == "pca k=2"


@pytest.mark.slow  # umap-learn's layout is compiled once per process
def test_umap_groups_do_not_depend_on_the_statements_ids(polis_dir):
    """A round's proposals get other ids in another database, or after other rounds were
    created: the same votes must give the same groups there. Nor does moderating out a
    proposal nobody voted on move anyone."""
    export = read_export(polis_dir("15-per-hour-seattle"))
    data = VoteData.from_export(export)

    def renumbered(factor: int, shift: int, unvoted: tuple[int, ...] = (),
                   excluded: tuple[int, ...] = ()) -> VoteData:
        return VoteData.from_arrays(
            data.participant, data.statement * factor + shift, data.value, data.timestamp,
            statement_ids=[*(data.statement_ids * factor + shift).tolist(), *unvoted],
            excluded_ids=[*(x * factor + shift for x in data.excluded_ids), *excluded])

    def groups(d: VoteData):
        a = analyze(d, method="umap")
        assert a.manifest["reducer"] == "umap"
        return a.participant_ids.tolist(), a.labels.tolist()

    here = groups(data)
    assert groups(renumbered(1, 1_000)) == here
    assert groups(renumbered(3, 37)) == here
    # a proposal in the middle, published or moderated out before anyone voted on it
    published = groups(renumbered(2, 0, unvoted=(21,)))
    assert groups(renumbered(2, 0, unvoted=(21,), excluded=(21,))) == published
