"""What the UMAP option costs, each figure against PCA measured in the same run.

    python bench/umap_cost.py [--sizes 2000x500,20000x500] [--density 0.095] [--repeat 3]
                              [--cli ../shared/datasets/polis/vtaiwan.uberx]

1. In one process, as a warm worker runs it (umap-learn imported and its layout compiled
   first): ``analyze(method="umap")`` against ``analyze(method="pca")`` on the same planted
   conversation, best of --repeat, wall and CPU seconds; the agreement of the UMAP groups
   with the planted ones (adjusted Rand index) beside PCA's.
2. The whole command line process ``python -m clustering analyze DIR --method umap``
   against ``--method pca`` on a real export (wall, and CPU seconds of the child).
The machine's load average is printed with each part: compare the ratios.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _load() -> str:
    return f"load average {os.getloadavg()[0]:.1f}"


def _timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def in_process(sizes: list[tuple[int, int]], density: float, repeat: int) -> None:
    from sklearn.metrics import adjusted_rand_score

    from clustering import analyze
    from clustering.analysis import warm_up_umap
    from clustering.synthetic import planted_conversation

    _, wall, cpu = _timed(warm_up_umap)
    print(f"warm-up (import umap-learn, compile its layout): {wall:.2f} s, "
          f"CPU {cpu:.2f} s  ({_load()})", flush=True)
    for n, m in sizes:
        data, truth = planted_conversation(n, m, density=density, n_groups=4, seed=5)
        best = {}
        for method in ("pca", "umap"):
            runs = [_timed(lambda method=method, data=data: analyze(data, method=method))
                    for _ in range(repeat)]
            a = runs[0][0]
            placed = a.labels >= 0
            ari = adjusted_rand_score(truth[a.participant_ids[placed]], a.labels[placed])
            best[method] = (min(r[1] for r in runs), min(r[2] for r in runs), a.k, ari)
        (pw, pc, pk, pa), (uw, uc, uk, ua) = best["pca"], best["umap"]
        print(f"{n:,} x {m}: UMAP {uw:.2f} s (CPU {uc:.2f}) k={uk} ARI {ua:.2f} | "
              f"PCA {pw:.2f} s (CPU {pc:.2f}) k={pk} ARI {pa:.2f} | ratio {uw / pw:.2f} "
              f"(CPU {uc / pc:.2f})  ({_load()})", flush=True)


def cli(directory: str) -> None:
    for method in ("pca", "umap"):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "clustering", "analyze", directory,
                        "--method", method], cwd=REPO, check=True,
                       stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        print(f"python -m clustering analyze {Path(directory).name} --method {method}: "
              f"{wall:.2f} s, CPU {cpu:.2f} s  ({_load()})", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000x500,20000x500")
    parser.add_argument("--density", type=float, default=0.095)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cli", default="../shared/datasets/polis/vtaiwan.uberx")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}  {_load()}")
    if args.cli:
        cli(args.cli)
    sizes = [tuple(int(x) for x in s.lower().split("x")) for s in args.sizes.split(",") if s]
    in_process(sizes, args.density, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
