"""How alike honest people vote, and what the escalation rule sends on, in real Pol.is rounds.

    .venv/bin/python bench/honest_similarity.py [DATASETS]   # default ../shared/datasets/polis

Two questions about the defences, answered on conversations nobody on this project wrote:

1. **Could a near-duplicate rule catch slow, noisy sybils without flagging honest people?**
   For every pair of participants with at least 15 identical answers, agreeing with some
   proposals and disagreeing with others (the floor of the rule for exactly alike voters in
   ``clustering/coordination.py``), the share of identical answers over the proposals either
   of them voted on (the burst rule's similarity). Printed: the highest share of a pair whose
   first votes are more than 20 minutes apart (what a spaced-out script looks like), and the
   largest connected group such pairs form at 0.80, 0.85 and 0.90 (a flagged block needs 5).
2. **Is the default escalation rule's list one a council would accept?** How many proposals
   in play the default rule of ``deliberation/engine/threshold.py`` would escalate on the
   latest analysis, how broad their support is, how many rest on five or fewer votes in one
   group, how many were prepared by the organisers (seeds), and the count under stricter
   settings a facilitator can choose.

Pure NumPy on the export; the pairwise part is dense (fine for a few thousand participants).
"""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from clustering import VoteData, analyze, read_export
from clustering.matrix import build_matrix
from deliberation.engine.threshold import GroupCounts, evaluate

MIN_IDENTICAL = 15  # clustering.coordination.DEFAULTS["identical_min_votes"]
WINDOW_SECONDS = 20 * 60  # clustering.coordination.DEFAULTS["window_seconds"]
STRICTER = ({"min_group_agree": 0.6}, {"min_group_agree": 2 / 3}, {"confidence": 0.95},
            {"min_bridging": 0.25})


def pair_figures(data: VoteData) -> dict:
    m = build_matrix(data)
    n, s = len(m.participant_ids), len(m.statement_ids)
    first = np.full(n, np.inf)
    np.minimum.at(first, np.searchsorted(m.participant_ids, data.participant),
                  data.timestamp / 1000.0)  # Pol.is times are milliseconds
    onehot = np.zeros((n, s, 3), dtype=np.float32)
    onehot[m.rows, m.cols, m.vals.astype(np.int64) + 1] = 1.0
    voted = onehot.sum(axis=2)
    counts = voted.sum(axis=1)
    agree, disagree = onehot[:, :, 2], onehot[:, :, 0]
    flat = onehot.reshape(n, 3 * s)
    same = flat @ flat.T
    union = counts[:, None] + counts[None, :] - voted @ voted.T
    share = np.where(union > 0, same / np.maximum(union, 1), 0.0)
    mixed = ((agree @ agree.T) > 0) & ((disagree @ disagree.T) > 0)
    spaced = np.triu((same >= MIN_IDENTICAL) & mixed
                     & (np.abs(first[:, None] - first[None, :]) > WINDOW_SECONDS), 1)
    out = {"participants": n, "spaced_pairs": int(spaced.sum()),
           "max_spaced_share": float(share[spaced].max()) if spaced.any() else 0.0}
    for level in (0.80, 0.85, 0.90):
        r, c = np.nonzero(spaced & (share >= level))
        largest = 0
        if len(r):
            _, labels = connected_components(coo_matrix((np.ones(len(r)), (r, c)),
                                                        shape=(n, n)), directed=False)
            linked = np.unique(np.concatenate([r, c]))
            largest = int(np.bincount(labels[linked]).max())
        out[f"largest_at_{level:.2f}"] = largest
    return out


def escalation_figures(directory: Path, export, data: VoteData) -> dict:
    a = analyze(data)
    excluded = set(data.excluded_ids)
    with open(directory / "comments.csv", encoding="utf-8", newline="") as f:
        seeds = {int(r["comment-id"]) for r in csv.DictReader(f)
                 if r.get("is-seed") in ("true", "True", "1")}
    bridging = {int(t): float(i) for t, i, k in zip(
        a.bridging.statement_ids.tolist(), a.bridging.intercept.tolist(),
        a.bridging.n_ratings.tolist(), strict=True) if k}
    gc, oc = a.group_counts, a.overall_counts

    def decisions(policy):
        for j, tid in enumerate(a.statement_ids.tolist()):
            if tid in excluded:
                continue
            groups = [GroupCounts(int(g), int(a.group_sizes[gi]), int(gc.agree[gi, j]),
                                  int(gc.disagree[gi, j]),
                                  int(gc.seen[gi, j] - gc.agree[gi, j] - gc.disagree[gi, j]))
                      for gi, g in enumerate(a.group_ids.tolist())]
            d = evaluate(policy, groups, total_votes=int(oc.seen[j]),
                         total_agrees=int(oc.agree[j]), bridging=bridging.get(int(tid)))
            if d.escalate:
                yield int(tid), j, d

    chosen = list(decisions(None))
    agree = [float(oc.agree[j] / oc.seen[j]) for _, j, _ in chosen]
    disagree = [float(oc.disagree[j] / oc.seen[j]) for _, j, _ in chosen]
    thin = [min(g.agree + g.disagree + g.passes for g in d.groups if g.eligible) for _, _, d in chosen]
    return {
        "in_play": len([t for t in a.statement_ids.tolist() if t not in excluded]),
        "group_sizes": a.group_sizes.tolist(),
        "escalated": len(chosen),
        "agree_min": min(agree, default=0.0), "agree_median": float(np.median(agree)) if agree else 0.0,
        "disagree_max": max(disagree, default=0.0),
        "thin": sum(t <= 5 for t in thin),
        "broad_bridging": sum(bridging.get(t, -1) >= 0.25 for t, _, _ in chosen),
        "seeds": sum(t in seeds for t, _, _ in chosen),
        "stricter": [len(list(decisions(p))) for p in STRICTER],
    }


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets/polis")
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for directory in sorted(p for p in root.iterdir() if (p / "votes.csv").is_file()):
        export = read_export(directory)
        data = VoteData.from_export(export)
        p = pair_figures(data)
        e = escalation_figures(directory, export, data)
        print(f"\n{directory.name}: {p['participants']:,} participants")
        print(f"  spaced pairs (>= {MIN_IDENTICAL} identical mixed answers, first votes > 20 min "
              f"apart): {p['spaced_pairs']:,}; highest share alike {p['max_spaced_share']:.3f}; "
              f"largest linked group at 0.80 / 0.85 / 0.90: {p['largest_at_0.80']} / "
              f"{p['largest_at_0.85']} / {p['largest_at_0.90']}")
        print(f"  default rule: {e['escalated']} of {e['in_play']} proposals in play "
              f"(groups {e['group_sizes']}); overall agree {e['agree_min']:.2f} min, "
              f"{e['agree_median']:.2f} median; disagree {e['disagree_max']:.2f} max; "
              f"bridging >= 0.25: {e['broad_bridging']}; <= 5 votes in a group: {e['thin']}; "
              f"seeds: {e['seeds']}")
        print("  stricter: " + ", ".join(f"{next(iter(p))}={next(iter(p.values())):.2f}: {n}"
                                          for p, n in zip(STRICTER, e["stricter"], strict=True)))


if __name__ == "__main__":
    main()
