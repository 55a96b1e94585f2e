"""gunicorn settings for Hiroba's web processes: ``gunicorn -c deploy/gunicorn.conf.py 'wsgi:app'``.

Environment: ``GUNICORN_BIND`` (default 127.0.0.1:8000), ``WEB_CONCURRENCY`` (worker
processes, default 2: about one per core) and ``GUNICORN_THREADS`` (threads per worker,
default 4: requests wait on PostgreSQL about half of the time). Command-line options
override these.
"""

import os
import sys
from http import HTTPStatus
from pathlib import Path

from gunicorn.http.errors import LimitRequestHeaders, LimitRequestLine
from gunicorn.util import write_nonblock
from gunicorn.workers.gthread import ThreadWorker

# gunicorn reads this file before it puts the working directory on the import path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from app.refusal_pages import refusal_response

# gunicorn's own refusals come before the app (and its translations) sees the request, so
# the two a browser can cause (a very long link, a cookie jar grown too big) get the app's
# page for them in place of gunicorn's English "Bad Request".
TOO_LARGE = {
    LimitRequestLine: HTTPStatus.REQUEST_URI_TOO_LONG,
    LimitRequestHeaders: HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
}


class HirobaThreadWorker(ThreadWorker):
    """gunicorn's gthread worker with readable pages for requests too large to read."""

    def handle_error(self, req, client, addr, exc):
        status = next((TOO_LARGE[kind] for kind in TOO_LARGE if isinstance(exc, kind)), None)
        if status is None:
            return super().handle_error(req, client, addr, exc)
        self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
        try:
            write_nonblock(client, refusal_response(status))
        except OSError:
            self.log.debug("Failed to send error message.")
        return None


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = HirobaThreadWorker
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# At most two open connections per thread in each worker. Without a cap, keep-alive
# connections stay with whichever worker accepted them first, and that worker, held to
# one core by the GIL, sets the pace while the other idles (bench/README.md has the
# figures from bench/web_load.py).
# Connections over the cap wait in the listen backlog until a worker has room.
worker_connections = 2 * threads
# The longest request line gunicorn reads (its bounded maximum). The app refuses query
# strings over 4 KiB itself with a translated page; longer lines get the page above.
limit_request_line = 8190
