"""Server time of the round page and the results page for a big round.

A round with 2,000 participants and 500 proposals (bulk insert, ~40 votes each) and a
fake snapshot (positions, groups, per-group counts), rendered through the test client.
Target: < 200 ms per page (median).

    /work/main/.venv/bin/python bench/page_render.py [--participants 2000] [--proposals 500]
    DATABASE_URL=postgresql+psycopg://... (optional; default a temp SQLite file)
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from app import create_app
from deliberation.database import db
from deliberation.models import (
    ClusterSnapshot,
    Participant,
    Proposal,
    Round,
    SnapshotGroup,
    SnapshotMembership,
    SnapshotProposalStat,
    Vote,
)
from deliberation.models._common import utcnow


def seed(n_participants: int, n_proposals: int, votes_each: int, groups: int) -> str:
    rng = random.Random(0)
    now = utcnow()
    round_ = Round(slug="bench", title="Bench round", phase="voting",
                   description="A **big** round.\n\n" * 5)
    db.session.add(round_)
    db.session.flush()
    rid = round_.id
    db.session.execute(sa.insert(Proposal), [
        {"round_id": rid, "text": f"Proposal number {i} about the town's future " * 3,
         "text_key": f"p{i}", "status": "published", "created_at": now}
        for i in range(n_proposals)])
    db.session.execute(sa.insert(Participant), [
        {"round_id": rid, "source": "import", "kind": rng.choice(["resident", "e_citizen"]),
         "external_id": str(i), "created_at": now} for i in range(n_participants)])
    pids = db.session.scalars(sa.select(Participant.id).where(Participant.round_id == rid)).all()
    props = db.session.scalars(sa.select(Proposal.id).where(Proposal.round_id == rid)).all()
    votes = []
    for pid in pids:
        for prop in rng.sample(props, votes_each):
            votes.append({"round_id": rid, "participant_id": pid, "proposal_id": prop,
                          "value": rng.choice((-1, 0, 1)), "created_at": now, "updated_at": now})
    db.session.execute(sa.insert(Vote), votes)
    snap = ClusterSnapshot(round_id=rid, method="pca", k=groups, n_participants=len(pids),
                           n_clustered=len(pids), n_votes=len(votes), statistics={
                               "repness": {str(g): [{"proposal_id": props[g * 3 + j],
                                                     "direction": "agree", "p_success": 0.8}
                                                    for j in range(3)] for g in range(groups)},
                               "group_aware_consensus": {str(p): rng.random() for p in props},
                               "priorities": {str(p): rng.random() for p in props}})
    db.session.add(snap)
    db.session.flush()
    sizes = [0] * groups
    members = []
    for pid in pids:
        g = rng.randrange(groups)
        sizes[g] += 1
        members.append({"snapshot_id": snap.id, "participant_id": pid, "group_id": g,
                        "x": g + rng.gauss(0, 0.3), "y": rng.gauss(0, 1)})
    db.session.execute(sa.insert(SnapshotMembership), members)
    db.session.execute(sa.insert(SnapshotGroup), [
        {"snapshot_id": snap.id, "group_id": g, "size": sizes[g]} for g in range(groups)])
    db.session.execute(sa.insert(SnapshotProposalStat), [
        {"snapshot_id": snap.id, "proposal_id": p, "group_id": g,
         "agree": rng.randrange(50), "disagree": rng.randrange(50), "passes": rng.randrange(10)}
        for p in props for g in [None, *range(groups)]])
    db.session.commit()
    return "bench"


def measure(client, path: str, n: int) -> list[float]:
    times = []
    client.get(path)  # warm up
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(path, headers={"Accept-Language": "en"})
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--participants", type=int, default=2000)
    parser.add_argument("--proposals", type=int, default=500)
    parser.add_argument("--votes-each", type=int, default=40)
    parser.add_argument("--groups", type=int, default=4)
    parser.add_argument("-n", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        import os

        url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            db.drop_all()
            db.create_all()
            t0 = time.perf_counter()
            slug = seed(args.participants, args.proposals, args.votes_each, args.groups)
            print(f"seeded in {time.perf_counter() - t0:.1f} s "
                  f"({args.participants} participants, {args.proposals} proposals, "
                  f"{args.participants * args.votes_each} votes) on {db.engine.dialect.name}")
        client = app.test_client()
        for name, path in (("round page", f"/rounds/{slug}"),
                           ("results page", f"/rounds/{slug}/results"),
                           ("home page", "/")):
            times = measure(client, path, args.n)
            median = statistics.median(times)
            verdict = "OK" if median < 200 else "SLOW"
            print(f"{name:13s} median {median:7.1f} ms  min {min(times):7.1f}  "
                  f"max {max(times):7.1f}  (n={args.n})  {verdict}")
        if url.startswith("postgresql"):
            with app.app_context():
                db.drop_all()


if __name__ == "__main__":
    main()
