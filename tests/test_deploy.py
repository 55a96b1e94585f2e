"""The deployment's gunicorn settings (deploy/gunicorn.conf.py) load and serve the app."""

from __future__ import annotations

import http.client
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CONFIG = "deploy/gunicorn.conf.py"
SECRET = secrets.token_hex(32)

pytestmark = pytest.mark.slow  # each test starts gunicorn


def _settings(env: dict[str, str]) -> dict[str, str]:
    output = subprocess.run(
        [str(BIN / "gunicorn"), "--print-config", "--config", CONFIG, "wsgi:app"],
        cwd=ROOT, env={**os.environ, "SECRET_KEY": SECRET, **env},
        capture_output=True, text=True, timeout=60, check=True).stdout
    pairs = (line.split("=", 1) for line in output.splitlines() if "=" in line)
    return {name.strip(): value.strip() for name, value in pairs}


def test_defaults_cap_connections_at_two_per_thread() -> None:
    settings = _settings({})
    assert "ThreadWorker" in settings["worker_class"]  # gthread, with Hiroba's error pages
    assert (settings["workers"], settings["threads"], settings["worker_connections"]) == (
        "2", "4", "8")
    assert settings["bind"] == "['127.0.0.1:8000']"


def test_environment_sizes_the_server() -> None:
    settings = _settings({"WEB_CONCURRENCY": "3", "GUNICORN_THREADS": "6",
                          "GUNICORN_BIND": "0.0.0.0:9000"})
    assert (settings["workers"], settings["threads"], settings["worker_connections"]) == (
        "3", "6", "12")
    assert settings["bind"] == "['0.0.0.0:9000']"


def _get(port: int, path: str, headers: dict[str, str]) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers)
        answer = conn.getresponse()
        return answer.status, answer.read().decode("utf-8")
    finally:
        conn.close()


def test_gunicorn_serves_the_app_with_these_settings(tmp_path: Path) -> None:
    env = {**os.environ, "HIROBA_ENV": "production", "SECRET_KEY": SECRET,
           "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}", "FLASK_APP": "wsgi.py",
           "CLUSTER_RUNNER": "off", "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "2",
           "RATELIMIT_ALLOW_MEMORY_STORAGE": "1"}  # one process: no Redis needed
    subprocess.run([str(BIN / "flask"), "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=120)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "--config", CONFIG, "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline, status = time.monotonic() + 60, None
        while time.monotonic() < deadline and status is None:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz")
                answer = conn.getresponse()
                status, server_header = answer.status, answer.getheader("Server", "")
            except OSError:
                time.sleep(0.2)
            finally:
                conn.close()
        assert status == 200
        assert "/" not in server_header  # no version banner (gunicorn sends its name only)
        # Over the app's limit the app answers; over gunicorn's, gunicorn does: both with a
        # page a resident can read, never a bare English "Bad Request".
        for length in (6_000, 20_000):
            status, page = _get(port, "/?q=" + "a" * length, {"Accept-Language": "ja"})
            assert status == 414, length
            assert "アドレス（URL）が長すぎます" in page, length
        status, page = _get(port, "/", {"Cookie": "x=" + "a" * 9_000})
        assert status == 431
        assert "送られた情報が多すぎます" in page
    finally:
        server.terminate()
        _out, err = server.communicate(timeout=30)
    assert b"Booting worker" in err
