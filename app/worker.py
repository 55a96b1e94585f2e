"""`flask worker`: the clustering runner as its own process (deployment with gunicorn)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app


@click.command("worker")
@click.option("--once", is_flag=True, help="Refresh the rounds that are due once, then exit.")
def worker(once: bool) -> None:
    """Recompute snapshots of rounds that need one until SIGTERM/SIGINT (graceful)."""
    from deliberation.jobs import runner

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if once:
        done = runner.run_once(
            min_interval=float(app.config["CLUSTER_MIN_INTERVAL"]),
            lease_seconds=float(app.config["CLUSTER_LEASE_SECONDS"]),
            snapshot_history=int(app.config["CLUSTER_SNAPSHOT_HISTORY"]),
            threads=int(app.config["CLUSTER_THREADS"]) or None,
        )
        from deliberation.jobs import polis_imports

        imported = 0
        while polis_imports.run_once(Path(app.config["IMPORT_FOLDER"])) is not None:
            imported += 1
        click.echo(f"refreshed {len(done)} round(s), imported {imported} upload(s)")
        return
    stop = threading.Event()

    def handle(signum: int, frame: Any) -> None:
        click.echo(f"worker: signal {signum}, finishing the current round and stopping")
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    from app.mail import start_sender

    mail = start_sender(app)  # delivers the outbox beside the clustering runner
    from deliberation.jobs import polis_imports

    imports = polis_imports.start_thread(app)  # and imports uploaded Pol.is exports
    try:
        runner.run_forever(stop, app)
    finally:
        imports[1].set()
        if mail is not None:
            mail[1].set()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def init_app(app: Flask) -> None:
    app.cli.add_command(worker)
