"""The mail sender: delivers the outbox (deliberation/services/mail.py) outside requests.

It runs beside the clustering runner: a daemon thread of the web process when
``CLUSTER_RUNNER=thread`` (``make run``), a second thread of ``flask worker`` otherwise.
``before_pass`` is the hook through which the web layer queues notification mails that
are due (app/notifications.py) before each delivery pass.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from deliberation.database import db
from deliberation.mail.transport import Transport
from deliberation.services import mail

log = logging.getLogger(__name__)


def run_once(transport: Transport, *, envelope_from: str, max_attempts: int,
             before_pass: Callable[[], Any] | None = None) -> tuple[int, int]:
    if before_pass is not None:
        before_pass()
    return mail.deliver_due(transport, envelope_from=envelope_from, max_attempts=max_attempts)


def run_forever(stop: threading.Event, app: Any, transport: Transport, *,
                before_pass: Callable[[], Any] | None = None) -> None:
    poll = float(app.config["MAIL_POLL_SECONDS"])
    while not stop.is_set():
        try:
            with app.app_context():
                run_once(transport, envelope_from=app.config["MAIL_FROM"],
                         max_attempts=int(app.config["MAIL_MAX_ATTEMPTS"]),
                         before_pass=before_pass)
        except Exception:  # a database hiccup must not end the loop
            log.exception("mail sender pass failed; trying again")
            with app.app_context():
                db.session.rollback()
        stop.wait(poll)


def start_thread(app: Any, transport: Transport, *,
                 before_pass: Callable[[], Any] | None = None) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(stop, app, transport),
                              kwargs={"before_pass": before_pass}, name="hiroba-mail",
                              daemon=True)
    thread.start()
    return thread, stop
