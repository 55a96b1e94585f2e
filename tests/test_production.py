"""Production settings: the secret key, trusted proxies, the demo, private files, caching
of personal pages and the server's name."""

from __future__ import annotations

import http.client
import os
import secrets
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask, request

from app import create_app
from app.config import secret_key_problem
from deliberation.database import db as _db
from deliberation.models import User
from tests import factories
from tests.security.conftest import client_for, quick_user

ROOT = Path(__file__).resolve().parents[1]
GOOD_SECRET = secrets.token_hex(32)


def production_app(database_url: str, **overrides) -> Flask:
    return create_app({"HIROBA_ENV": "production", "SECRET_KEY": GOOD_SECRET,
                       "SQLALCHEMY_DATABASE_URI": database_url, "CLUSTER_RUNNER": "off",
                       "RATELIMIT_ENABLED": False, "RATELIMIT_ALLOW_MEMORY_STORAGE": True,
                       **overrides})


@pytest.mark.parametrize("secret", [
    None, "", "x", "changeme", "CHANGEME", "dev-only-not-secret", "test-only-not-secret", "...",
    "a" * 31, "short-but-not-known", "x" * 64, "ab" * 32,
])
def test_weak_secrets_are_refused_in_production(app: Flask, secret: str | None) -> None:
    assert secret_key_problem(secret) is not None
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        production_app(app.config["SQLALCHEMY_DATABASE_URI"], SECRET_KEY=secret)


def test_weak_secret_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import app.config as config

    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", "changeme")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production")


def test_weak_verification_key_is_refused_in_production(app: Flask) -> None:
    with pytest.raises(RuntimeError, match="VERIFICATION_KEY"):
        production_app(app.config["SQLALCHEMY_DATABASE_URI"], VERIFICATION_KEY="changeme")


def test_random_secret_is_accepted(app: Flask) -> None:
    assert secret_key_problem(GOOD_SECRET) is None
    assert production_app(app.config["SQLALCHEMY_DATABASE_URI"]).config["ENVIRONMENT"] == \
        "production"


def _remote_addr(application: Flask, headers: dict[str, str]) -> str:
    application.add_url_rule("/_test/remote-addr", "remote_addr",
                             lambda: request.remote_addr or "")
    return application.test_client().get("/_test/remote-addr",
                                          headers=headers).get_data(as_text=True)


FORWARDED = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9"}


def test_forwarded_headers_are_ignored_unless_proxies_are_configured(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    monkeypatch.setenv("PROXY_FIX", "1")  # the old switch does nothing any more
    assert _remote_addr(production_app(url), FORWARDED) == "127.0.0.1"
    assert _remote_addr(production_app(url, PROXY_FIX_TRUSTED=1), FORWARDED) == "203.0.113.9"
    assert _remote_addr(production_app(url, PROXY_FIX_TRUSTED=2), FORWARDED) == "198.51.100.7"


def test_demo_seed_refuses_to_run_in_production(app: Flask, db) -> None:
    prod = production_app(app.config["SQLALCHEMY_DATABASE_URI"])
    with prod.app_context():  # the command runs in this app, not in the test's app
        result = prod.test_cli_runner().invoke(args=["demo", "seed", "--no-polis"])
    assert result.exit_code != 0
    assert "production" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


@pytest.fixture()
def wide_umask() -> Iterator[None]:
    """The usual umask (0644 files): without the app's care, files would be world-readable."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_sqlite_database_file_is_private(tmp_path: Path, wide_umask: None) -> None:
    path = tmp_path / "hiroba.sqlite3"
    private = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with private.app_context():
        _db.create_all()
        _db.session.execute(sa.insert(User).values(
            email="a@example.org", display_name="A", role="citizen", kind="resident",
            consent_version="test"))
        _db.session.commit()
        assert path.is_file() and _mode(path) == 0o600
        for extra in (Path(f"{path}-wal"), Path(f"{path}-shm")):
            assert not extra.exists() or _mode(extra) == 0o600
        _db.engine.dispose()


def test_backup_and_exports_are_private(runner, db, tmp_path: Path, wide_umask: None) -> None:
    round_ = factories.make_round(phase="voting", open_data_enabled=True)
    factories.make_proposal(round_, "Trees")
    outputs = []
    if _db.engine.dialect.name == "sqlite":
        backup = tmp_path / "backups" / "copy.sqlite3"
        assert runner.invoke(args=["backup", "--output", str(backup)]).exit_code == 0
        outputs.append(backup)
        assert _mode(backup.parent) == 0o700
    export = tmp_path / "agenda.csv"
    existing = tmp_path / "agenda.json"
    existing.write_text("old")
    existing.chmod(0o644)
    for target, fmt in ((export, "csv"), (existing, "json")):
        result = runner.invoke(args=["agenda", "export", "--format", fmt, "--output", str(target)])
        assert result.exit_code == 0, result.output
        outputs.append(target)
    archive, directory = tmp_path / "open.zip", tmp_path / "open-data"
    for target in (archive, directory):
        result = runner.invoke(args=["agenda", "open-data", round_.slug, "--output", str(target)])
        assert result.exit_code == 0, result.output
    outputs += [archive, *directory.iterdir()]
    assert _mode(directory) == 0o700
    assert len(outputs) >= 7
    for path in outputs:
        assert _mode(path) == 0o600, path


@pytest.mark.parametrize("path,role", [
    ("/account/", "citizen"), ("/account/data.json", "citizen"), ("/auth/password", "citizen"),
    ("/auth/login", None), ("/auth/register", None), ("/admin/users", "admin"),
    ("/facilitate/", "facilitator"), ("/agenda/council/", "council"),
    ("/", "citizen"),  # any page seen logged in names the account
])
def test_personal_and_staff_pages_are_not_stored(app: Flask, db, path: str,
                                                 role: str | None) -> None:
    client = client_for(app, quick_user(role) if role else None)
    response = client.get(path)
    assert response.status_code in (200, 303), response.status_code
    assert response.headers.get("Cache-Control") == "no-store"


def test_council_item_and_dossier_are_not_stored(app: Flask, db) -> None:
    from deliberation.engine import escalation

    round_ = factories.make_round(phase="voting")
    proposal = factories.make_proposal(round_, "Trees")
    item = escalation.escalate_manually(proposal.id, actor=quick_user("facilitator"),
                                        reason="test")
    client = client_for(app, quick_user("council"))
    for path in (f"/agenda/council/items/{item.id}", f"/agenda/council/items/{item.id}/dossier"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"


def test_public_pages_and_static_files_may_be_cached(app: Flask, db) -> None:
    anonymous = client_for(app, None)
    assert "no-store" not in anonymous.get("/").headers.get("Cache-Control", "")
    logged_in = client_for(app, quick_user())
    response = logged_in.get("/static/css/hiroba.css")
    response.close()
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")


@pytest.mark.slow  # starts `flask serve` in a new process
def test_make_run_server_sends_no_version(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "FLASK_APP": "wsgi.py", "CLUSTER_RUNNER": "off",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}"}
    server = subprocess.Popen([str(Path(sys.executable).parent / "flask"), "serve", "--port",
                               str(port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline, server_header = time.monotonic() + 60, None
        while time.monotonic() < deadline and server_header is None:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/privacy")
                server_header = conn.getresponse().getheader("Server")
            except OSError:
                time.sleep(0.2)
            finally:
                conn.close()
        assert server_header == "Hiroba"
    finally:
        server.terminate()
        server.wait(timeout=30)
