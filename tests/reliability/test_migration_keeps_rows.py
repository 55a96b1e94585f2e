"""Upgrading a SQLite database keeps its rows.

SQLite changes a table by building a new one and dropping the old (Alembic's batch
mode); with foreign keys enforced, dropping ``participants`` would delete, by cascade,
every vote and vote event that refers to it.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# The revision before a migration that rebuilds ``participants`` on SQLite.
BEFORE_REBUILD = "108ff603a896"
NOW = "2026-11-30 12:00:00.000000"


def flask_db(database: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "flask", "db", *args], cwd=REPO, check=True,
                   capture_output=True, env={"PATH": "/usr/bin:/bin", "FLASK_APP": "wsgi.py",
                                             "DATABASE_URL": f"sqlite:///{database}",
                                             "CLUSTER_RUNNER": "off"})


@pytest.mark.slow
def test_upgrading_a_sqlite_database_keeps_its_votes(tmp_path: Path) -> None:
    database = tmp_path / "hiroba.sqlite3"
    flask_db(database, "upgrade", BEFORE_REBUILD)
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute(
            "INSERT INTO rounds (id, slug, title, summary, description, background_links, "
            "phase, moderation_mode, eligibility, clustering_method, max_groups, "
            "threshold_policy, report_threshold, min_group_display, response_deadline_days, "
            "open_data_enabled, source, created_at, updated_at) VALUES (1, 'r', 'R', '', '', "
            "'[]', 'voting', 'open', 'everyone', 'pca', 5, '{}', 3, 5, 60, 0, 'hiroba', ?, ?)",
            (NOW, NOW))
        connection.executemany(
            "INSERT INTO participants (id, round_id, source, kind, label, created_at) "
            "VALUES (?, 1, 'assisted', 'resident', ?, ?)", [(1, "A", NOW), (2, "B", NOW)])
        connection.execute(
            "INSERT INTO proposals (id, round_id, author_id, text, text_key, status, is_seed, "
            "is_meta, report_count, created_at) VALUES (1, 1, 1, 'x', 'x', 'published', 0, 0, "
            "0, ?)", (NOW,))
        connection.executemany(
            "INSERT INTO votes (round_id, participant_id, proposal_id, value, created_at, "
            "updated_at) VALUES (1, ?, 1, 1, ?, ?)", [(1, NOW, NOW), (2, NOW, NOW)])
        connection.executemany(
            "INSERT INTO vote_events (round_id, participant_id, proposal_id, value, source, "
            "created_at) VALUES (1, ?, 1, 1, 'assisted', ?)", [(1, NOW), (2, NOW)])
    flask_db(database, "upgrade")
    with sqlite3.connect(database) as connection:
        counts = {table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                  for table in ("participants", "proposals", "votes", "vote_events")}
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    assert counts == {"participants": 2, "proposals": 1, "votes": 2, "vote_events": 2}
