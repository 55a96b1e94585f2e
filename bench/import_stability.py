"""Escalations of imported Pol.is rounds under chance, through the whole stack.

    python bench/import_stability.py [--datasets DIR] [--methods pca,umap] [--names a,b]

For each Pol.is export and each clustering method, copies of the export are imported as
new rounds into one SQLite database (``polis_import.import_export``, as ``flask polis
import`` does), grouped by the runner's step (``refresh_and_escalate``, one BLAS thread)
and armed (``set_armed``, as ``flask agenda arm --yes``), and the escalations written are
compared. Copies:

- the same votes: the export with seeds 0, 1, 2 (``flask cluster run --seed``); its rows
  shuffled (votes, comments; three draws); its voter and comment ids relabelled and its
  rows shuffled (three draws). Each import is a new round, so the database's ids differ too;
- one more vote: a newcomer casts one vote on a published statement (four draws; they are
  in no group: Pol.is's in-conv rule needs 7 votes);
- a grouped newcomer: a newcomer casts 7 votes (three draws).

"Flips": statements escalated in some runs of a set and not in others. With red-dwarf
(``pip install red-dwarf==0.4.0``, comparison only) importable, also its groups over seeds
0-4 on the same votes, against Pol.is's ``group-id`` and ours, and the escalations the
default rule gives on its groups (``analyze(membership=...)``).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import random
import shutil
import statistics
import sys
import tempfile
import warnings
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NAMES = ["vtaiwan.uberx", "15-per-hour-seattle", "scoop-hivemind.biodiversity",
         "bg2050-volunteers"]
SAME = ["orig:0", "orig:1", "orig:2", "shuffle:1", "shuffle:2", "shuffle:3", "relabel:1",
        "relabel:2", "relabel:3"]
NOISE = ["vote:1", "vote:2", "vote:3", "vote:4", "grouped:1", "grouped:2", "grouped:3"]
csv.field_size_limit(2**31 - 1)


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def make_copy(src: Path, dst: Path, variant: str) -> tuple[dict, dict, int | None]:
    """Write the variant of the export; returns (new voter id -> original, new comment id
    -> original, the newcomer's voter id or None)."""
    kind, _, n = variant.partition(":")
    rng = random.Random(f"{kind}:{n}")
    dst.mkdir(parents=True)
    vh, votes = _read(src / "votes.csv")
    ch, comments = _read(src / "comments.csv")
    v_voter, v_comment = vh.index("voter-id"), vh.index("comment-id")
    c_comment, c_author = ch.index("comment-id"), ch.index("author-id")
    voters, cids, newcomer = {}, {}, None
    meta = None
    if (src / "math-pca2.json").is_file():
        meta = json.loads((src / "math-pca2.json").read_text()).get("meta-tids", [])
    if kind == "relabel":
        old_v = sorted({r[v_voter] for r in votes} | {r[c_author] for r in comments}, key=int)
        new_v = dict(zip(old_v, map(str, rng.sample(range(10 * len(old_v)), len(old_v))),
                         strict=True))
        old_c = sorted({r[c_comment] for r in comments}, key=int)
        new_c = dict(zip(old_c, map(str, rng.sample(range(10 * len(old_c)), len(old_c))),
                         strict=True))
        for r in votes:
            r[v_voter], r[v_comment] = new_v[r[v_voter]], new_c[r[v_comment]]
        for r in comments:
            r[c_author], r[c_comment] = new_v[r[c_author]], new_c[r[c_comment]]
        voters = {int(b): int(a) for a, b in new_v.items()}
        cids = {int(b): int(a) for a, b in new_c.items()}
        if meta is not None:
            meta = [int(new_c[str(t)]) for t in meta if str(t) in new_c]
    if kind in ("shuffle", "relabel"):
        rng.shuffle(votes)
        rng.shuffle(comments)
    if kind in ("vote", "grouped"):
        published = [r[c_comment] for r in comments if r[ch.index("moderated")] == "1"]
        when = max(int(r[vh.index("timestamp")]) for r in votes) + 60_000
        newcomer = max(int(r[v_voter]) for r in votes) + 1000
        for cid in rng.sample(published, 1 if kind == "vote" else 7):
            row = [""] * len(vh)
            row[vh.index("timestamp")], row[v_comment] = str(when), cid
            row[v_voter], row[vh.index("vote")] = str(newcomer), rng.choice(["1", "-1", "0"])
            votes.append(row)
    _write(dst / "votes.csv", vh, votes)
    _write(dst / "comments.csv", ch, comments)
    if meta is not None:
        (dst / "math-pca2.json").write_text(json.dumps({"meta-tids": meta}))
    if (src / "summary.csv").is_file():
        shutil.copy(src / "summary.csv", dst / "summary.csv")
    return voters, cids, newcomer


def run_variants(src: Path, method: str, work: Path) -> list[dict]:
    """Import, group and arm each variant in a database of its own; one row per variant."""
    import sqlalchemy as sa

    from app import create_app
    from deliberation.database import db
    from deliberation.engine.arming import set_armed
    from deliberation.interop import polis_import
    from deliberation.jobs.runner import refresh_and_escalate
    from deliberation.models import Escalation, Participant, Proposal, SnapshotMembership
    from deliberation.services.facilitation import preview_escalations

    app = create_app({"TESTING": True,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{work}/{method}.db"})
    rows = []
    with app.app_context():
        db.create_all()
        for i, variant in enumerate(SAME + NOISE):
            kind, _, n = variant.partition(":")
            voters, cids, newcomer = make_copy(src, work / f"{method}{i}", variant)
            export = polis_import.read_directory(work / f"{method}{i}")
            round_ = polis_import.import_export(export, directory=work / f"{method}{i}",
                                                slug=f"{method}-{i}")
            round_.clustering_method = method
            db.session.commit()
            snapshot = refresh_and_escalate(round_.id, seed=int(n) if kind == "orig" else 0,
                                            threads=1)
            preview = preview_escalations(round_, round_.policy)
            set_armed(round_, True, actor=None, seen_snapshot_id=snapshot.id)
            comment = dict(db.session.execute(sa.select(Proposal.id, Proposal.external_id)
                                              .where(Proposal.round_id == round_.id)).all())
            voter = dict(db.session.execute(sa.select(Participant.id, Participant.external_id)
                                            .where(Participant.round_id == round_.id)).all())
            escalated = sorted(cids.get(int(comment[p]), int(comment[p])) for p in
                               db.session.scalars(sa.select(Escalation.proposal_id).where(
                                   Escalation.round_id == round_.id)))
            groups = {}
            for pid, gid in db.session.execute(
                    sa.select(SnapshotMembership.participant_id, SnapshotMembership.group_id)
                    .where(SnapshotMembership.snapshot_id == snapshot.id)):
                v = int(voter[pid])
                if gid is not None and v != newcomer:
                    groups[voters.get(v, v)] = gid
            rows.append({"variant": variant, "sizes": tuple(sorted(
                (g.size for g in snapshot.groups), reverse=True)), "escalated": escalated,
                "previewed": len(preview["escalate"]), "groups": groups})
    return rows


def _ari(a: dict, b: dict) -> float:
    from sklearn.metrics import adjusted_rand_score

    both = [p for p in a if p in b]
    return float(adjusted_rand_score([a[p] for p in both], [b[p] for p in both]))


def _flips(rows: list[dict]) -> int:
    sets = [set(r["escalated"]) for r in rows]
    return len(set.union(*sets) - set.intersection(*sets))


def reddwarf(src: Path, ours: dict[str, dict]) -> str | None:
    """red-dwarf's groups (seeds 0-4) on the votes the import keeps, as a table row."""
    try:
        from reddwarf.implementations.polis import run_pipeline
    except ImportError:
        return None
    from clustering import VoteData, analyze, read_export

    export = read_export(src)
    latest = {}
    for v in sorted(export.votes, key=lambda v: v.timestamp):
        latest[(v.voter_id, v.comment_id)] = v
    votes = [{"participant_id": v.voter_id, "statement_id": v.comment_id, "vote": v.vote,
              "modified": v.timestamp.timestamp()} for v in latest.values()]
    out = [c.comment_id for c in export.comments if c.moderated != 1]  # as imported
    meta = [c.comment_id for c in export.comments if c.is_meta]
    data = VoteData.from_export(export)
    data = VoteData(data.participant, data.statement, data.value, data.timestamp,
                    data.statement_ids, sorted({*data.excluded_ids, *out}), data.meta_ids)
    polis = {p: g for p, g in (export.group_ids or {}).items() if g is not None}
    runs = []
    for seed in range(5):
        df = run_pipeline(votes=votes, mod_out_statement_ids=out, meta_statement_ids=meta,
                          random_state=seed).participants_df
        df = df[df.to_cluster]
        groups = {int(p): int(c) for p, c in zip(df.index, df.cluster_id, strict=True)}
        a = analyze(data, membership=groups)
        runs.append((groups, set(a.statement_ids[a.escalates].tolist())))
    sizes = sorted({tuple(sorted(Counter(g.values()).values(), reverse=True))
                    for g, _ in runs})
    pair = min(_ari(a, b) for (a, _), (b, _) in itertools.combinations(runs, 2))
    mean = statistics.mean
    pca = set(ours["pca"]["escalated"]) if "pca" in ours else set()
    return (f"| {src.name} | {sizes} | {mean([_ari(polis, g) for g, _ in runs]):.3f} | "
            f"{pair:.3f} | " + " | ".join(
                f"{mean([_ari(ours[m]['groups'], g) for g, _ in runs]):.3f}"
                if m in ours else "–" for m in ("pca", "umap"))
            + f" | {sorted({len(e) for _, e in runs})} | {_flips([{'escalated': e} for _, e in runs])}"
            f" | {mean([len(e & pca) for _, e in runs]):.0f} of {len(pca)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=REPO / ".." / "shared" / "datasets"
                        / "polis")
    parser.add_argument("--methods", default="pca,umap")
    parser.add_argument("--names", default=",".join(NAMES))
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    warnings.simplefilter("ignore")
    print("| conversation | method | escalated | same votes: flips / group sizes (9 runs) "
          "| one more vote: flips / sizes (4) | grouped newcomer: flips / sizes (3) "
          "| ARI vs Pol.is |\n|---|---|---|---|---|---|---|", flush=True)
    firsts: dict[str, dict[str, dict]] = {}
    for name in args.names.split(","):
        src = args.datasets / name
        polis = None
        for method in args.methods.split(","):
            with tempfile.TemporaryDirectory(prefix="import-stability-") as work:
                rows = run_variants(src, method, Path(work))
            if polis is None:
                from clustering import read_export

                polis = {p: g for p, g in (read_export(src).group_ids or {}).items()
                         if g is not None}
            same = rows[:len(SAME)]
            vote = [rows[0], *(r for r in rows if r["variant"].startswith("vote"))]
            grouped = [rows[0], *(r for r in rows if r["variant"].startswith("grouped"))]
            firsts.setdefault(name, {})[method] = rows[0]
            cells = [f"{_flips(s)} / {sorted({r['sizes'] for r in s})}"
                     for s in (same, vote, grouped)]
            print(f"| {name} | {method} | {len(rows[0]['escalated'])} | " + " | ".join(cells)
                  + f" | {_ari(polis, rows[0]['groups']):.3f} |", flush=True)
    lines = [reddwarf(args.datasets / name, ours) for name, ours in firsts.items()]
    if any(lines):
        print("\n| conversation | red-dwarf group sizes (seeds 0-4) | ARI vs Pol.is | "
              "ARI between seeds, min | ARI vs our PCA | vs our UMAP | escalations on its "
              "groups | flips | shared with our PCA's |\n|---|---|---|---|---|---|---|---|---|")
        print("\n".join(line for line in lines if line))


if __name__ == "__main__":
    main()
