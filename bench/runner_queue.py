"""What the clustering runner's claim query costs when "due" is derived from vote events.

    python bench/runner_queue.py postgresql+psycopg://hiroba@127.0.0.1:54329/SCRATCH_DB

Seeds 200 rounds with 2,000,000 vote events in the given (scratch) PostgreSQL database,
then times the claim query, and prints PostgreSQL's plan, with half the rounds behind their
snapshot and with none. Drops every table at the end.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from app import create_app
from deliberation.database import db
from deliberation.jobs import runner
from deliberation.models import ClusteringJob, utcnow

app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": sys.argv[1]})
with app.app_context():
    db.drop_all()
    db.create_all()
    c = db.session.connection()
    c.execute(sa.text("SET session_replication_role = replica"))  # no FK checks for the seed
    c.execute(sa.text("""
      INSERT INTO rounds (id, slug, title, summary, description, background_links, phase,
        moderation_mode, eligibility, clustering_method, max_groups, threshold_policy,
        report_threshold, min_group_display, response_deadline_days, open_data_enabled, source,
        created_at, updated_at)
      SELECT g, 'r' || g, 'R', '', '', '[]', 'voting', 'open', 'everyone', 'pca', 5, '{}', 3, 5,
        60, false, 'native', now(), now() FROM generate_series(1, 200) g"""))
    # 2,000,000 vote events spread over 200 rounds, interleaved as live voting would be
    c.execute(sa.text("""INSERT INTO vote_events (round_id, participant_id, proposal_id, value,
        source, created_at) SELECT 1 + (g % 200), g, g, 1, 'web', now()
        FROM generate_series(1, 2000000) g"""))
    # every round has a snapshot; half saw all their votes, half miss the last 1000 events
    c.execute(sa.text("""INSERT INTO cluster_snapshots (round_id, status, method, k,
        n_participants, n_clustered, n_votes, input_hash, last_vote_event_id, manifest,
        statistics, created_at)
      SELECT r, 'ok', 'pca', 2, 0, 0, 0, '', (SELECT max(id) FROM vote_events WHERE round_id = r)
        - CASE WHEN r % 2 = 0 THEN 0 ELSE 200000 END, '{}', '{}', now()
      FROM generate_series(1, 200) r"""))
    db.session.commit()
    db.session.execute(sa.text("ANALYZE"))
    db.session.commit()
    runner.add_missing_jobs()
    now = utcnow()
    query = (sa.select(ClusteringJob.round_id).where(runner.due(now, 3.0))
             .order_by(ClusteringJob.last_run_at.nulls_first(), ClusteringJob.round_id)
             .limit(10).with_for_update(skip_locked=True))
    compiled = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
    for _ in range(3):
        start = time.perf_counter()
        rows = db.session.scalars(query).all()
        db.session.rollback()
        print(f"claim select: {len(rows)} due rounds in {(time.perf_counter() - start) * 1000:.1f} ms")
    plan = db.session.execute(sa.text("EXPLAIN (ANALYZE, BUFFERS) " + compiled)).scalars().all()
    print("\n".join(plan))
    db.session.rollback()
    # the worst case: no round is due, so every round is probed
    db.session.execute(sa.text("UPDATE cluster_snapshots SET last_vote_event_id = 10000000"))
    db.session.commit()
    for _ in range(3):
        start = time.perf_counter()
        rows = db.session.scalars(query).all()
        db.session.rollback()
        print(f"nothing due: {len(rows)} rounds in {(time.perf_counter() - start) * 1000:.1f} ms")
    plan = db.session.execute(sa.text("EXPLAIN (ANALYZE, BUFFERS) " + compiled)).scalars().all()
    print("\n".join(plan))
    db.session.rollback()
    db.drop_all()
