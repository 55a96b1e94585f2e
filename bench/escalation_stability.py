"""Do escalations belong to the votes? Seeds, relabelled ids, shuffled rows, k = 2..5.

    python bench/escalation_stability.py [--baseline REF] [--seeds 10] [--reddwarf-seeds 10]
                                         [--datasets DIR] [--timing-only] [--no-timing]

For each Pol.is export in ``../shared/datasets/polis/`` (or ``--datasets``), the snapshot
computation (``clustering.analyze`` and the default escalation rule of
``deliberation/engine/threshold.py``) runs

- for seeds 0 .. N-1 on copies of the votes: seed 0 on the export as it is, seed s > 0 on a
  copy whose participant ids are relabelled and whose vote rows are shuffled (timestamps
  kept), with the round's default maximum of 5 groups;
- for max_groups k = 2, 3, 4 on the export and on one relabelled and shuffled copy.

It prints, per conversation and tree (this one, and ``--baseline`` checked out with
``git worktree``): statements whose escalation flips between runs that should agree, the
pairwise ARI between those runs (participants matched by their original id), the mean ARI
against Pol.is's published ``group-id``, red-dwarf 0.4.0's mean ARI over its seeds (when it
is installed; comparison only, never an app dependency), and how often the bridging lens
(statement intercept >= 0.25, the level the council pages call "broad") agrees with the group rule.

Timing: ``analyze`` on a planted 2,000 x 500 conversation (100k votes), this tree against
the baseline, in one BLAS thread as the clustering runner uses by default.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_BASELINE = "0e397ba"  # main before deterministic groups
BRIDGING_THRESHOLD = 0.25  # deliberation.engine.threshold.BRIDGING_BROAD


def _copy(data, seed: int):
    """The export's votes (seed 0) or a copy with relabelled ids and shuffled rows.

    Returns (VoteData, new id -> original id)."""
    from clustering import VoteData

    ids = np.unique(data.participant)
    if seed == 0:
        return data, {int(p): int(p) for p in ids}
    rng = np.random.default_rng(1000 + seed)
    new_ids = rng.permutation(10 * len(ids))[: len(ids)] + 1
    relabel = new_ids[np.searchsorted(ids, data.participant)]
    order = rng.permutation(len(relabel))
    copy = VoteData(relabel[order], data.statement[order], data.value[order],
                    data.timestamp[order], data.statement_ids, data.excluded_ids,
                    data.meta_ids)
    return copy, dict(zip(new_ids.tolist(), ids.tolist(), strict=True))


def _escalations(a) -> list[int]:
    """The default rule of the threshold engine on this analysis (all trees have it)."""
    from deliberation.engine.threshold import GroupCounts, evaluate

    gc, oc = a.group_counts, a.overall_counts
    out = []
    for j, tid in enumerate(a.statement_ids.tolist()):
        groups = [GroupCounts(int(g), int(a.group_sizes[gi]), int(gc.agree[gi, j]),
                              int(gc.disagree[gi, j]),
                              int(gc.seen[gi, j] - gc.agree[gi, j] - gc.disagree[gi, j]))
                  for gi, g in enumerate(a.group_ids.tolist())]
        d = evaluate(None, groups, total_votes=int(oc.seen[j]), total_agrees=int(oc.agree[j]))
        if d.escalate:
            out.append(int(tid))
    return out


def worker(tree: str, directory: str, seeds: int) -> dict:
    """Runs inside ``tree`` (this checkout or the baseline's)."""
    sys.path.insert(0, tree)
    from clustering import VoteData, analyze, read_export

    export = read_export(directory)
    data = VoteData.from_export(export)
    excluded = set(data.excluded_ids)
    runs = []
    plan = [(5, s) for s in range(seeds)] + [(k, s) for k in (2, 3, 4) for s in (0, 1)]
    for max_groups, seed in plan:
        copy, id_map = _copy(data, seed)
        a = analyze(copy, seed=seed, max_groups=max_groups)
        labels = {str(id_map[int(p)]): int(g)
                  for p, g in zip(a.participant_ids.tolist(), a.labels.tolist(), strict=True)}
        row = {"max_groups": max_groups, "seed": seed, "k": a.k, "labels": labels,
               "escalated": [t for t in _escalations(a) if t not in excluded]}
        bridging = getattr(a, "bridging", None)
        if bridging is not None:
            row["bridging"] = {str(t): float(i) for t, i, n in zip(
                bridging.statement_ids.tolist(), bridging.intercept.tolist(),
                bridging.n_ratings.tolist(), strict=True) if n and t not in excluded}
            row["robust"] = a.robustness.to_json_dict()
            row["overall_seen"] = {str(t): int(n) for t, n in zip(
                a.statement_ids.tolist(), a.overall_counts.seen.tolist(), strict=True)}
        runs.append(row)
    polis = {str(p): g for p, g in (export.group_ids or {}).items() if g is not None}
    return {"runs": runs, "polis": polis}


def timing_worker(tree: str, repeat: int) -> dict:
    sys.path.insert(0, tree)
    from threadpoolctl import threadpool_limits

    from clustering import analyze
    from clustering.synthetic import planted_conversation

    data, _ = planted_conversation(2000, 500, density=0.1, n_groups=3, seed=1)
    times = []
    with threadpool_limits(limits=1):
        analyze(data)
        for _ in range(repeat):
            t = time.perf_counter()
            analyze(data)
            times.append(time.perf_counter() - t)
    return {"median": statistics.median(times), "min": min(times), "votes": len(data.value)}


def _ari(a: dict, b: dict) -> float:
    from sklearn.metrics import adjusted_rand_score

    both = [p for p in a if a[p] >= 0 and b.get(p, -1) >= 0]
    if not both:
        return float("nan")
    return float(adjusted_rand_score([a[p] for p in both], [b[p] for p in both]))


def _reddwarf_ari(directory: str, seeds: int) -> float | None:
    try:
        from reddwarf.implementations.polis import run_pipeline
    except ImportError:
        return None
    sys.path.insert(0, str(REPO))
    from clustering import read_export

    export = read_export(directory)
    latest = {}
    for v in sorted(export.votes, key=lambda v: v.timestamp):
        latest[(v.voter_id, v.comment_id)] = v
    votes = [{"participant_id": v.voter_id, "statement_id": v.comment_id, "vote": v.vote,
              "modified": v.timestamp.timestamp()} for v in latest.values()]
    mod_out = [c.comment_id for c in export.comments if c.moderated == -1]
    meta = [c.comment_id for c in export.comments if c.is_meta]
    polis = {str(p): g for p, g in export.group_ids.items() if g is not None}
    aris = []
    for seed in range(seeds):
        res = run_pipeline(votes=votes, mod_out_statement_ids=mod_out,
                           meta_statement_ids=meta, random_state=seed)
        df = res.participants_df
        df = df[df.to_cluster]
        labels = {str(int(p)): int(c) for p, c in zip(df.index, df.cluster_id, strict=True)}
        aris.append(_ari(polis, labels))
    return float(np.mean(aris))


def _run(tree: Path, args: list[str]) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), *args, "--tree", str(tree)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=tree)
    if out.returncode != 0:
        raise SystemExit(f"worker failed in {tree}:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def summarise(name: str, tree: str, res: dict) -> dict:
    runs, polis = res["runs"], res["polis"]
    flips: set[int] = set()
    total: set[int] = set()
    pairwise = []
    for _max_groups, group in itertools.groupby(runs, key=lambda r: r["max_groups"]):
        group = list(group)
        sets = [set(r["escalated"]) for r in group]
        union, inter = set.union(*sets), set.intersection(*sets)
        flips |= union - inter
        total |= union
        pairwise += [_ari(a["labels"], b["labels"])
                     for a, b in itertools.combinations(group, 2)]
    default = [r for r in runs if r["max_groups"] == 5]
    vs_polis = [_ari(polis, r["labels"]) for r in default] if polis else []
    out = {"conversation": name, "tree": tree, "escalations": len(total),
           "flipping": sorted(flips), "pairwise_ari_min": min(pairwise),
           "pairwise_ari_mean": float(np.mean(pairwise)),
           "polis_ari_mean": float(np.mean(vs_polis)) if vs_polis else None,
           "k": sorted({r["k"] for r in default})}
    first = default[0]
    if "bridging" in first:
        seen = first["overall_seen"]
        cands = [t for t in first["bridging"] if seen[t] >= 20]
        group_rule = {str(t) for t in first["escalated"]}
        lens = {t for t in cands if first["bridging"][t] >= BRIDGING_THRESHOLD}
        agree = sum((t in group_rule) == (t in lens) for t in cands)
        both = len(group_rule & lens)
        scores = np.array([first["bridging"][t] for t in cands])
        pos = np.array([t in group_rule for t in cands])
        auc = None
        if pos.any() and (~pos).any():
            from sklearn.metrics import roc_auc_score

            auc = float(roc_auc_score(pos, scores))
        robust = first["robust"]
        out.update({"bridging_agreement": agree / max(len(cands), 1),
                    "bridging_both": both, "bridging_only": len(lens - group_rule),
                    "group_rule_only": len(group_rule - lens), "bridging_auc": auc,
                    "robust": sum(v["robust"] for v in robust.values()),
                    "fragile": sum(v["fragile"] for v in robust.values())})
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default=str(REPO / ".." / "shared" / "datasets" / "polis"))
    ap.add_argument("--baseline", default=DEFAULT_BASELINE,
                    help="git ref to compare with ('' to skip)")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--reddwarf-seeds", type=int, default=10)
    ap.add_argument("--timing-only", action="store_true")
    ap.add_argument("--no-timing", action="store_true")
    ap.add_argument("--json", help="write every figure to this file")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--timing-worker", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--tree", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.tree, args.worker, args.seeds)))
        return 0
    if args.timing_worker:
        print(json.dumps(timing_worker(args.tree, args.timing_worker)))
        return 0

    dirs = sorted(p for p in Path(args.datasets).iterdir() if (p / "votes.csv").is_file())
    results: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        trees = [("this tree", REPO)]
        baseline = None
        if args.baseline:
            baseline = Path(tmp) / "baseline"
            subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "--quiet",
                            str(baseline), args.baseline], check=True)
            trees.append((f"baseline {args.baseline}", baseline))
        try:
            if not args.timing_only:
                for d in dirs:
                    rd = _reddwarf_ari(str(d), args.reddwarf_seeds) if args.reddwarf_seeds else None
                    for label, tree in trees:
                        res = _run(tree, ["--worker", str(d), "--seeds", str(args.seeds)])
                        row = summarise(d.name, label, res)
                        row["reddwarf_ari_mean"] = rd
                        results.append(row)
                        _print_row(row)
            if not args.no_timing:
                times = {label: _run(tree, ["--timing-worker", "5"]) for label, tree in trees}
                for label, t in times.items():
                    print(f"timing 2,000 x 500 ({t['votes']:,} votes), one thread, {label}: "
                          f"median {t['median']:.3f} s, min {t['min']:.3f} s")
                if baseline is not None:
                    ratio = times["this tree"]["median"] / times[trees[1][0]]["median"]
                    print(f"timing ratio this tree / baseline: {ratio:.2f}")
                results.append({"timing": times})
        finally:
            if baseline is not None:
                subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force",
                                str(baseline)], check=False)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def _print_row(row: dict) -> None:
    fmt = _fmt
    line = (f"{row['conversation']:<30} {row['tree']:<18} escalations {row['escalations']:>3} "
            f"flipping {len(row['flipping']):>3}  pairwise ARI min {row['pairwise_ari_min']:.3f}"
            f" mean {row['pairwise_ari_mean']:.3f}  vs Pol.is {fmt(row['polis_ari_mean'])}"
            f"  red-dwarf {fmt(row['reddwarf_ari_mean'])}  k {row['k']}")
    if "bridging_agreement" in row:
        line += (f"  bridging agrees {row['bridging_agreement']:.1%} (both "
                 f"{row['bridging_both']}, bridging only {row['bridging_only']}, group rule "
                 f"only {row['group_rule_only']}, AUC {fmt(row['bridging_auc'])})  robust "
                 f"{row['robust']} fragile {row['fragile']}")
    print(line, flush=True)
    if row["flipping"]:
        print(f"    flipping: {row['flipping']}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
