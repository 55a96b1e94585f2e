"""Scale benchmark: whole analysis (matrix build to repness) on synthetic conversations with
planted groups, at 100k, 1M and 10M votes; red-dwarf 0.4.0 on the same input, same run.

    python bench/cluster_scale.py [--sizes 2000x500,20000x500,100000x1000] [--density 0.1]

Each measurement runs in its own subprocess so peak RSS (ru_maxrss) belongs to it alone.
red-dwarf is found in the current interpreter, or in the interpreter named by the env var
REDDWARF_PYTHON (default /work/bench-venv-reddwarf/bin/python, see bench/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_REDDWARF_PYTHON = "/work/bench-venv-reddwarf/bin/python"
TIMEOUT = 300.0  # seconds: red-dwarf runs longer than this are skipped


def _peak_mb() -> float:
    """Peak RSS of this process in MB (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _ari(truth, labels) -> float:
    from sklearn.metrics import adjusted_rand_score

    mask = labels >= 0
    return float(adjusted_rand_score(truth[mask], labels[mask]))


def worker_ours(path: str) -> dict:
    sys.path.insert(0, str(REPO))
    from clustering import VoteData, analyze

    z = np.load(path)
    p, s, v, truth = z["participant"], z["statement"], z["value"], z["truth"]
    m = int(z["n_statements"])
    base_mb = _peak_mb()
    t0 = time.perf_counter()
    a = analyze(VoteData.from_arrays(p, s, v, statement_ids=np.arange(m)), seed=0)
    secs = time.perf_counter() - t0
    return {"seconds": secs, "peak_mb": _peak_mb(), "input_mb": base_mb, "k": a.k,
            "ari": _ari(truth[a.participant_ids], a.labels)}


def worker_reddwarf(path: str) -> dict:
    from reddwarf.implementations.polis import run_pipeline

    z = np.load(path)
    p, s, v, truth = z["participant"], z["statement"], z["value"], z["truth"]
    votes = [{"participant_id": int(a), "statement_id": int(b), "vote": int(c), "modified": i}
             for i, (a, b, c) in enumerate(zip(p.tolist(), s.tolist(), v.tolist(), strict=True))]
    base_mb = _peak_mb()
    t0 = time.perf_counter()
    res = run_pipeline(votes=votes, random_state=0)
    secs = time.perf_counter() - t0
    df = res.participants_df
    labels = np.full(len(truth), -1)
    ids = df.index.to_numpy(dtype=np.int64)
    cid = df["cluster_id"].to_numpy(dtype="float64", na_value=np.nan)
    ok = ~np.isnan(cid)
    labels[ids[ok]] = cid[ok].astype(np.int64)
    return {"seconds": secs, "peak_mb": _peak_mb(), "input_mb": base_mb,
            "k": len(np.unique(cid[ok])), "ari": _ari(truth, labels)}


def generate(n: int, m: int, density: float, groups: int, path: str) -> int:
    sys.path.insert(0, str(REPO))
    from clustering.synthetic import planted_conversation

    data, truth = planted_conversation(n, m, density=density, n_groups=groups, seed=1)
    np.savez(path, participant=data.participant, statement=data.statement, value=data.value,
             truth=truth, n_statements=m)
    return len(data.value)


def _reddwarf_python() -> str | None:
    try:
        import reddwarf  # noqa: F401

        return sys.executable
    except ImportError:
        pass
    cand = os.environ.get("REDDWARF_PYTHON", DEFAULT_REDDWARF_PYTHON)
    if cand and Path(cand).exists():
        ok = subprocess.run([cand, "-c", "import reddwarf"], capture_output=True, check=False)
        if ok.returncode == 0:
            return cand
    return None


def _run(python: str, kind: str, path: str, timeout: float) -> dict:
    cmd = [python, str(Path(__file__).resolve()), "--worker", kind, path]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"skipped": f"timed out after {timeout:.0f} s"}
    if out.returncode != 0:
        tail = (out.stderr.strip().splitlines() or ["?"])[-1]
        return {"skipped": f"failed: {tail[:120]}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="2000x500,20000x500,100000x1000")
    ap.add_argument("--density", type=float, default=0.1)
    ap.add_argument("--groups", type=int, default=3)
    ap.add_argument("--no-reddwarf", action="store_true")
    ap.add_argument("--worker", nargs=2, metavar=("KIND", "NPZ"), help=argparse.SUPPRESS)
    ap.add_argument("--generate", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.generate:
        n, m, density, groups, path = args.generate
        print(generate(int(n), int(m), float(density), int(groups), path))
        return 0
    if args.worker:
        kind, path = args.worker
        res = worker_ours(path) if kind == "ours" else worker_reddwarf(path)
        print(json.dumps(res))
        return 0

    rd_python = None if args.no_reddwarf else _reddwarf_python()
    rd_note = "disabled (--no-reddwarf)" if args.no_reddwarf else "not installed (see bench/README.md)"
    print(f"cores: {os.cpu_count()}  python: {sys.version.split()[0]}  "
          f"red-dwarf: {rd_python or 'skipped: ' + rd_note}")
    header = (f"{'votes':>11} {'participants x statements':>26} {'impl':>9} {'seconds':>8} "
              f"{'peak MB':>8} {'input MB':>8} {'k':>3} {'ARI':>6}")
    print(header)
    print("-" * len(header))
    rd_secs_per_vote = None
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes.split(","):
            n, m = (int(x) for x in size.lower().split("x"))
            path = str(Path(tmp) / f"{n}x{m}.npz")
            # generate in a subprocess: on Linux a child's ru_maxrss starts from the peak RSS
            # of the process that spawned it, so this launcher must stay small
            gen = subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), "--generate", str(n), str(m),
                 str(args.density), str(args.groups), path],
                capture_output=True, text=True, check=True)
            n_votes = int(gen.stdout.strip())
            rows = [("hiroba", _run(sys.executable, "ours", path, 3600))]
            if rd_python is None:
                rows.append(("red-dwarf", {"skipped": rd_note}))
            elif rd_secs_per_vote is not None and rd_secs_per_vote * n_votes > TIMEOUT:
                est = rd_secs_per_vote * n_votes
                rows.append(("red-dwarf", {"skipped": f"estimated {est:.0f} s > {TIMEOUT:.0f} s"}))
            else:
                rd = _run(rd_python, "reddwarf", path, TIMEOUT)
                if "seconds" in rd:
                    rd_secs_per_vote = rd["seconds"] / n_votes
                rows.append(("red-dwarf", rd))
            for impl, r in rows:
                shape = f"{n:,} x {m:,}"
                if "skipped" in r:
                    print(f"{n_votes:>11,} {shape:>26} {impl:>9}  skipped: {r['skipped']}")
                else:
                    print(f"{n_votes:>11,} {shape:>26} {impl:>9} {r['seconds']:>8.2f} "
                          f"{r['peak_mb']:>8.0f} {r['input_mb']:>8.0f} {r['k']:>3} "
                          f"{r['ari']:>6.3f}")
            sys.stdout.flush()
    print("votes = distinct (participant, statement) votes; seconds = "
          "analysis only; peak MB = peak RSS of the measuring process; input MB = its RSS "
          "after loading the input (red-dwarf: after building its list of vote dicts).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
