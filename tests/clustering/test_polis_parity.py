"""Parity with Pol.is's own output on real conversations (data: CC BY 4.0, The Computational
Democracy Project; see ../shared/datasets/polis/README.md)."""

import json

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from clustering import VoteData, analyze, read_export


@pytest.fixture(scope="module")
def biodiversity(polis_dir):
    path = polis_dir("scoop-hivemind.biodiversity")
    math = json.loads((path / "math-pca2.json").read_text())
    export = read_export(path)
    base = dict(zip(math["base-clusters"]["id"], math["base-clusters"]["members"], strict=True))
    membership = {p: g["id"] for g in math["group-clusters"] for b in g["members"]
                  for p in base[b]}
    data = VoteData.from_export(export)
    # Pol.is's own exclusion list (moderated-out + meta) from the math output
    data = VoteData.from_arrays(data.participant, data.statement, data.value, data.timestamp,
                                statement_ids=data.statement_ids,
                                excluded_ids=math["mod-out"], meta_ids=math["meta-tids"])
    return math, export, membership, analyze(data, membership=membership)


def test_export_group_ids_equal_math_membership(biodiversity):
    _, export, membership, _ = biodiversity
    assert {p: g for p, g in export.group_ids.items() if g is not None} == membership


def test_group_aware_consensus_matches_math(biodiversity):
    math, _, _, a = biodiversity
    gac = math["group-aware-consensus"]
    assert len(gac) == 314
    for tid, value in gac.items():
        assert a.group_aware_consensus[int(tid)] == pytest.approx(value, abs=1e-9, rel=0)


def test_group_vote_counts_match_math(biodiversity):
    math, _, _, a = biodiversity
    gids = a.group_ids.tolist()
    for gid, gv in math["group-votes"].items():
        gi = gids.index(int(gid))
        assert a.group_sizes[gi] == gv["n-members"]
        tids = np.array([int(t) for t in gv["votes"]])
        cols = np.searchsorted(a.statement_ids, tids)
        theirs = np.array([[v["A"], v["D"], v["S"]] for v in gv["votes"].values()])
        ours = np.column_stack([a.group_counts.agree[gi, cols], a.group_counts.disagree[gi, cols],
                                a.group_counts.seen[gi, cols]])
        np.testing.assert_array_equal(ours, theirs)


def test_repness_matches_math(biodiversity):
    math, _, _, a = biodiversity
    for gid, rows in math["repness"].items():
        ours = a.repness[int(gid)]
        assert [(r["tid"], r["repful-for"]) for r in rows] == [(r.tid, r.direction) for r in ours]
        for theirs, mine in zip(rows, ours, strict=True):
            assert mine.n_success == theirs["n-success"]
            assert mine.n_trials == theirs["n-trials"]
            assert mine.p_success == pytest.approx(theirs["p-success"], abs=1e-12)
            assert mine.p_test == pytest.approx(theirs["p-test"], abs=1e-9)
            assert mine.repness == pytest.approx(theirs["repness"], abs=1e-9)
            assert mine.repness_test == pytest.approx(theirs["repness-test"], abs=1e-5)
            assert mine.best_agree == bool(theirs.get("best-agree", False))


def test_consensus_matches_math(biodiversity):
    math, _, _, a = biodiversity
    for key in ("agree", "disagree"):
        theirs = math["consensus"][key]
        assert [c["tid"] for c in theirs] == [c.tid for c in a.consensus[key]]
        for t, c in zip(theirs, a.consensus[key], strict=True):
            assert (c.n_success, c.n_trials) == (t["n-success"], t["n-trials"])
            assert c.p_test == pytest.approx(t["p-test"], abs=1e-9)


def test_meta_priority_and_priorities_close(biodiversity):
    math, _, _, a = biodiversity
    pr = {int(t): v for t, v in math["comment-priorities"].items()}
    for tid in math["meta-tids"]:
        assert pr[tid] == 49 and a.priorities[tid] == 49.0
    # Non-meta priorities depend on the PCA extremity (Pol.is: 100 power iterations
    # from its previous run) and on Pol.is using the previous run's group votes, so
    # only closeness is expected.
    ratio = np.array([a.priorities[t] / v for t, v in pr.items() if t not in
                      math["meta-tids"] and v > 0])
    assert np.median(np.abs(ratio - 1)) < 0.01


def test_bg2050_group_informed_consensus(polis_dir):
    path = polis_dir("bg2050-volunteers")
    export = read_export(path)
    a = analyze(VoteData.from_export(export), membership=export.group_ids)
    checked = 0
    for c in export.comments:
        if c.group_informed_consensus is not None:
            assert a.group_aware_consensus[c.comment_id] == pytest.approx(
                c.group_informed_consensus, abs=1e-9, rel=0)
            checked += 1
    assert checked == 371


@pytest.mark.parametrize(
    ("name", "min_ari"),
    [("vtaiwan.uberx", 0.82), ("scoop-hivemind.biodiversity", 0.95),
     ("bg2050-volunteers", 0.99), ("15-per-hour-seattle", 0.5)],
)
def test_cold_start_matches_polis_groups(polis_dir, name, min_ari):
    """Our groups against Pol.is's exported group ids (the same for every seed).

    Pol.is's k = 2 split comes from its update history, not from the final votes: on
    bg2050 its partition has a higher inertia and a lower silhouette than others, so no
    criterion over the final votes finds it everywhere. The bounds are at least red-dwarf
    0.4.0's ARI on the same data (0.826, 0.954, 0.194, 0.459; bench/escalation_stability.py).
    """
    export = read_export(polis_dir(name))
    a = analyze(VoteData.from_export(export), seed=0)
    polis = {p: g for p, g in export.group_ids.items() if g is not None}
    assert a.k == len(set(polis.values()))
    ours = dict(zip(a.participant_ids.tolist(), a.labels.tolist(), strict=True))
    both = [p for p in polis if ours.get(p, -1) >= 0]
    assert len(both) >= 0.99 * len(polis)
    ari = adjusted_rand_score([polis[p] for p in both], [ours[p] for p in both])
    assert ari >= min_ari, ari
