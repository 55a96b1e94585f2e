"""Instructions per vote and per ``/healthz``, counted by valgrind: this tree against a baseline.

    python bench/vote_instructions.py                      # against HEAD~1, PostgreSQL
    python bench/vote_instructions.py --baseline a88e6cd --requests 100 --db sqlite

Timing the vote request on the 2-core VM is noisy (its speed drifts by ±10-30% within a
minute), so changes of a few percent cannot be seen in ``web_load.py`` or in CPU times.
Instruction counts do not drift: callgrind (``valgrind --tool=callgrind``) counts those of
the app process (the web layer, the ORM, the driver; not the database server) while it
answers ``--requests`` htmx votes (or ``GET /healthz``) through Flask's test client, after
30 warm-up requests. Repeated runs of the same code agree within 0.1%.

The baseline is checked out with ``git worktree`` into a temporary directory and runs with
this tree's virtualenv; both trees get the same fresh database and seeded round
(``web_load.seed``: 20 voters, 100 proposals, 1,800 imported participants) and each its own
voter. Needs ``valgrind`` (Debian: ``apt-get install valgrind``); PostgreSQL from
``scripts/postgres.sh``. Takes about a minute and a half per tree and path.

How only the requests are counted: collection starts and stops with
``--toggle-collect=ffi_call*``, and the measured loop is the only code run through a
ctypes callback, so the only code with libffi's ``ffi_call`` below it on the stack.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import web_load

REPO = web_load.REPO
WARM_UP = 30


def child(tree: str, url: str, voter: int, requests: int, path: str) -> None:
    """Runs under valgrind: log in, warm up, then the measured requests."""
    import ctypes
    import random

    sys.path.insert(0, tree)
    os.chdir(tree)
    os.environ.update(web_load.server_env(url, 3.0))
    from app import create_app

    app = create_app({"SECRET_KEY": web_load.BENCH_SECRET, "SESSION_COOKIE_SECURE": False,
                      "PROXY_FIX_TRUSTED": 0, "PROXY_FIX": False, "CLUSTER_RUNNER": "off",
                      "SQLALCHEMY_DATABASE_URI": url, "VOTE_RATE_LIMIT": "1000000 per minute"})
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    match = web_load.CSRF_INPUT.search(page)
    response = client.post("/auth/login", data={
        "email": f"voter{voter}@bench.example", "password": web_load.PASSWORD,
        "csrf_token": match.group(1) or match.group(2)})
    assert response.status_code in (302, 303), response.status_code
    page = client.get(f"/rounds/{web_load.SLUG}/vote").get_data(as_text=True)
    headers = {"HX-Request": "true", "X-CSRFToken": web_load.CSRF_HEADER.search(page).group(1)}
    with app.app_context():
        import sqlalchemy as sa

        from deliberation.database import db
        from deliberation.models import Proposal

        proposal_ids = list(db.session.scalars(sa.select(Proposal.id)))
    rng = random.Random(5)

    def one() -> None:
        if path == "healthz":
            assert client.get("/healthz").status_code == 200
            return
        response = client.post(f"/rounds/{web_load.SLUG}/vote", headers=headers, data={
            "proposal_id": rng.choice(proposal_ids), "value": rng.choice(("1", "-1", "0"))})
        assert response.status_code == 200 and b"vote-card" in response.data, response.data

    for _ in range(WARM_UP):
        one()

    def measured() -> None:
        for _ in range(requests):
            one()

    ctypes.CFUNCTYPE(None)(measured)()


def count(tree: Path, url: str, voter: int, requests: int, path: str) -> float:
    """Millions of instructions per request."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        subprocess.run(
            ["valgrind", "--tool=callgrind", "--collect-atstart=no",
             "--toggle-collect=ffi_call*", f"--callgrind-out-file={out}",
             sys.executable, __file__, "--child", str(tree), url, str(voter), str(requests),
             path],
            check=True, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONHASHSEED": "0"},
            timeout=1800,
        )
        totals = next(line for line in out.read_text().splitlines()
                      if line.startswith(("summary:", "totals:")))
    return int(totals.split()[1]) / requests / 1e6


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        tree, url, voter, requests, path = sys.argv[2:7]
        child(tree, url, int(voter), int(requests), path)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default="HEAD~1", help="git ref to compare with")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--path", choices=["vote", "healthz", "both"], default="vote")
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    args = parser.parse_args()
    if not shutil.which("valgrind"):
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as tmp:
        url = web_load.fresh_database(args.db, Path(tmp), name="hiroba_instructions")
        if url is None:
            sys.exit("no database")
        web_load.seed(url, 20, 100, 1800, 30)
        baseline = Path(tmp) / "baseline"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "--quiet",
                        str(baseline), args.baseline], check=True)
        try:
            paths = ["vote", "healthz"] if args.path == "both" else [args.path]
            for path in paths:
                base = count(baseline, url, 0, args.requests, path)
                this = count(REPO, url, 1, args.requests, path)
                print(f"{path}: {args.baseline} {base:.3f} M instructions per request, "
                      f"this tree {this:.3f} M ({(this - base) / base:+.1%})", flush=True)
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force",
                            str(baseline)], check=False)


if __name__ == "__main__":
    main()
