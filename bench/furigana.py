"""Server time of Japanese pages with furigana and easy Japanese, against the same pages in
standard Japanese measured in the same run (the baseline).

Seeds the Japanese demo town (seed_demo without the Pol.is import) into a temp SQLite file,
then renders the home page, a round's proposal list and its results through the test
client: "cold" is the first request after the process started (MeCab's dictionary loaded,
every text annotated), the medians are over warm requests (texts come from the cache).

    /work/main/.venv/bin/python bench/furigana.py [--n 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import create_app
from deliberation.database import db
from deliberation.demo import seed_demo

JA = {"Accept-Language": "ja"}


def timed(client, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path, headers=JA)
    assert response.status_code == 200, (path, response.status_code)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=20, help="warm requests per page and mode")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False,
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3"})
        with app.app_context():
            db.create_all()
            t0 = time.perf_counter()
            demo = seed_demo(app.config["CONSENT_VERSION"], polis_dir=None)
            print(f"seeded the demo town in {time.perf_counter() - t0:.1f} s")
            slug = demo.rounds[0][0]
        pages = {"home": "/", "proposals": f"/rounds/{slug}/proposals",
                 "results": f"/rounds/{slug}/results"}
        clients = {}
        for mode in ("standard", "furigana", "easy"):
            clients[mode] = app.test_client()
            clients[mode].post("/reading", data={"reading": mode})
        print(f"{'page':10s} {'mode':9s} {'cold ms':>8s} {'median ms':>10s} {'x standard':>10s}")
        for name, path in pages.items():
            baseline = None
            for mode, client in clients.items():
                cold = timed(client, path)
                median = statistics.median(timed(client, path) for _ in range(args.n))
                baseline = baseline or median
                print(f"{name:10s} {mode:9s} {cold:8.1f} {median:10.1f} {median / baseline:10.2f}")


if __name__ == "__main__":
    main()
