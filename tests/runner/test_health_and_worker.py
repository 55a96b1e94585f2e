"""`/healthz`, `flask worker` and the embedded runner hook."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from app import create_app
from deliberation.database import db as _db
from deliberation.jobs import runner as runner_mod
from deliberation.models import ClusterSnapshot, VoteEvent, utcnow
from deliberation.services.snapshot_requests import request_snapshot
from tests import factories

REPO = Path(__file__).resolve().parents[2]


def test_healthz_reports_database_and_snapshot_age(client, db):
    fresh = factories.make_round(phase="voting", slug="fresh")
    never = factories.make_round(phase="collecting", slug="never-clustered")
    request_snapshot(never)
    factories.make_round(phase="draft", slug="draft")
    factories.make_round(phase="closed", slug="closed")
    db.session.add(ClusterSnapshot(round_id=fresh.id, method="pca", status="ok",
                                   created_at=utcnow() - timedelta(seconds=42)))
    db.session.add(ClusterSnapshot(round_id=fresh.id, method="pca", status="failed"))
    db.session.commit()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["status"] == "ok" and body["database"] == "ok"
    rounds = {r["slug"]: r for r in body["rounds"]}
    assert set(rounds) == {"fresh", "never-clustered"}
    assert 41 <= rounds["fresh"]["snapshot_age_seconds"] < 60
    assert rounds["fresh"]["refresh_pending"] is False
    assert rounds["never-clustered"]["snapshot_age_seconds"] is None
    assert rounds["never-clustered"]["refresh_pending"] is True
    assert "email" not in response.get_data(as_text=True)


def test_healthz_counts_unseen_votes_and_running_leases(client, db):
    round_ = factories.make_round(phase="voting", slug="busy")
    round_.created_at = utcnow() - timedelta(hours=1)  # before the vote 30 s ago below
    participant = factories.make_participant(round_)
    seen = factories.add_vote(participant, factories.make_proposal(round_), 1)
    seen_event = db.session.scalar(sa.select(sa.func.max(VoteEvent.id)))
    db.session.add(ClusterSnapshot(round_id=round_.id, method="pca", status="ok",
                                   last_vote_event_id=seen_event))
    db.session.commit()
    assert seen is not None
    body = client.get("/healthz").get_json()
    assert body["rounds"][0]["refresh_pending"] is False
    assert body["rounds"][0]["pending_seconds"] is None
    # Votes the snapshot did not see, cast 30 s ago by as many people as a new snapshot
    # waits for: pending since those votes.
    later = factories.make_proposal(round_)
    factories.add_vote(participant, later, -1)
    for _ in range(4):
        factories.add_vote(factories.make_participant(round_), later, 1)
    db.session.execute(sa.update(VoteEvent).where(VoteEvent.id > seen_event)
                       .values(created_at=utcnow() - timedelta(seconds=30)))
    db.session.commit()
    row = client.get("/healthz").get_json()["rounds"][0]
    assert row["refresh_pending"] is True and 29 <= row["pending_seconds"] < 60
    assert row["refresh_running"] is False
    assert runner_mod.claim_due_rounds(owner="w1", now=utcnow(), min_interval=0,
                                       lease_seconds=60) == [round_.id]
    assert client.get("/healthz").get_json()["rounds"][0]["refresh_running"] is True


def test_healthz_503_when_the_database_is_down(client, db, monkeypatch):
    def down(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(_db.session, "execute", down, raising=False)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "unreachable", "rounds": []}


def test_healthz_503_with_an_unreachable_database_url(tmp_path):
    broken = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI":
                         "sqlite:///" + str(tmp_path / "missing-dir" / "x.sqlite3")})
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_healthz_is_not_rate_limited(app, client, db):
    app.config["RATELIMIT_ENABLED"] = True
    try:
        statuses = {client.get("/healthz").status_code for _ in range(30)}
    finally:
        app.config["RATELIMIT_ENABLED"] = False
    assert statuses == {200}


def test_worker_once_refreshes_due_rounds(runner, db, monkeypatch):
    round_ = factories.make_round()
    request_snapshot(round_)
    db.session.commit()
    seen = []
    monkeypatch.setattr(runner_mod, "refresh_and_escalate",
                        lambda round_id, **options: seen.append((round_id, options)))
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "Rounds refreshed: 1." in result.output
    assert [(rid, options["threads"]) for rid, options in seen] == [(round_.id, 1)]  # CLUSTER_THREADS


def test_embedded_runner_starts_with_the_first_request_only(database_url):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url,
                      "CLUSTER_RUNNER": "thread"})
    assert "hiroba_runner" not in app.extensions  # not at import, not in CLI commands
    client = app.test_client()
    client.get("/healthz")
    state = app.extensions["hiroba_runner"]
    thread = state["thread"]
    client.get("/healthz")
    assert app.extensions["hiroba_runner"]["thread"] is thread  # once per process
    assert thread.daemon and thread.is_alive()
    state["stop"].set()
    thread.join(10)
    assert not thread.is_alive()
    if state.get("mail") is not None:  # the mail sender started beside it: stop it too, or
        mail_thread, mail_stop = state["mail"]  # it keeps writing to the tests' database
        mail_stop.set()
        mail_thread.join(10)
        assert not mail_thread.is_alive()
    import_thread, import_stop = state["imports"]  # and the Pol.is upload importer
    import_stop.set()
    import_thread.join(10)
    assert not import_thread.is_alive()
    with app.app_context():
        _db.engine.dispose()


def test_runner_off_starts_nothing(app, client, db):
    client.get("/healthz")
    assert "hiroba_runner" not in app.extensions


@pytest.mark.slow  # starts a Python process with the whole app
def test_flask_worker_stops_gracefully_on_sigterm(database_url, db):
    env = {**os.environ, "FLASK_APP": "wsgi.py", "HIROBA_ENV": "testing",
           "DATABASE_URL": database_url, "CLUSTER_POLL_SECONDS": "0.1"}
    process = subprocess.Popen([sys.executable, "-m", "flask", "worker"], cwd=REPO, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        output = ""
        while time.monotonic() < deadline:  # wait until the loop has started
            line = process.stdout.readline()
            output += line
            if ("clustering runner" in line and "started" in line) or not line:
                break
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    output += rest
    assert process.returncode == 0, output
    assert "stopped" in output


def test_the_worker_puts_numba_cache_in_the_instance_folder(app, monkeypatch):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    runner_mod.numba_cache_dir(app.instance_path)
    assert os.environ["NUMBA_CACHE_DIR"] == os.path.join(app.instance_path, "numba-cache")
    runner_mod.numba_cache_dir("/elsewhere")  # a value from the environment is kept
    assert os.environ["NUMBA_CACHE_DIR"] == os.path.join(app.instance_path, "numba-cache")


def test_umap_is_compiled_at_start_only_when_an_open_round_uses_it(app, db, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(Path(app.instance_path) / "numba-cache"))
    factories.make_round(phase="voting")
    factories.make_round(phase="closed", clustering_method="umap")
    assert not runner_mod.umap_wanted(app)
    assert runner_mod.prepare_umap(app) is None
    factories.make_round(phase="voting", clustering_method="umap")
    assert runner_mod.umap_wanted(app)


@pytest.mark.slow  # compiles UMAP, unless this process already has
def test_umap_compiles_in_a_background_thread(caplog):
    """No database: the PostgreSQL run leaves it out, and the SQLite run has compiled UMAP
    already in the clustering tests."""
    caplog.set_level(logging.INFO, logger="deliberation.jobs.runner")
    thread = runner_mod.warm_up_umap_in_background()
    thread.join(timeout=600)
    assert not thread.is_alive()
    assert any(r.getMessage().startswith("UMAP compiled in") for r in caplog.records)
