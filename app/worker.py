"""`flask worker`: the clustering runner as its own process (deployment with gunicorn)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask_babel import format_number, gettext
from flask_babel import lazy_gettext as _l

from app.terminal import TerminalCommand, in_terminal_language, running_app


@click.command("worker", cls=TerminalCommand, help=_l(
    "Recompute snapshots of rounds that need one until SIGTERM/SIGINT (graceful)."))
@click.option("--once", is_flag=True, help=_l("Refresh the rounds that are due once, then exit."))
@in_terminal_language
def worker(once: bool) -> None:
    from deliberation.jobs import runner

    app = running_app()  # the threads below run outside this command's context
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
        click.echo(gettext("Rounds refreshed: %(rounds)s. Uploads imported: %(uploads)s.",
                           rounds=format_number(len(done)), uploads=format_number(imported)))
        return
    stop = threading.Event()
    signals = (signal.SIGTERM, signal.SIGINT)
    # Worded now: the handler runs inside the runner's own application context, which
    # has no terminal language (and a handler should do little).
    notices = {int(sig): gettext("Worker: signal %(signum)d, finishing the current round "
                                 "and stopping.", signum=int(sig)) for sig in signals}

    def handle(signum: int, frame: Any) -> None:
        click.echo(notices.get(signum, ""))
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in signals}
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
