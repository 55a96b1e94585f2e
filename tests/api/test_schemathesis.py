"""The OpenAPI document matches the behaviour: schemathesis against a live test server.

Schemathesis runs as an anonymous client: every read-only operation is exercised with the
round fixture, and the write operations must answer 401 (and declare it). Voting and
proposing with a session and the X-CSRFToken header are tested in test_api.py (schemathesis
cannot log in through a cookie without treating it as a forged credential).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")

pytestmark = pytest.mark.slow  # a schemathesis run against a live server


@pytest.fixture()
def live_server(app: Flask, api_round) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def test_openapi_document_is_served(client) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    assert "/rounds/{slug}/votes" in document["paths"]


@pytest.mark.skipif(not SCHEMATHESIS.exists(), reason="schemathesis is not installed")
def test_schemathesis_finds_no_mismatch(app: Flask, live_server: str, api_round,
                                        tmp_path: Path) -> None:
    command = [
        str(SCHEMATHESIS), "run", f"{live_server}/api/v1/openapi.json",
        "--checks", "all",
        "--max-examples", "8",
        "--generation-deterministic",
        "--workers", "1",
        "--no-color",
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": ""}
    # cwd: schemathesis keeps a cache folder in the working directory. The timeout only
    # stops a run that hangs: about 5 s of CPU, it took over 120 s on a machine loaded
    # twenty deep.
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env,
                            check=False, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
