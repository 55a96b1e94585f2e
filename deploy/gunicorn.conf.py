"""gunicorn settings for Hiroba's web processes: ``gunicorn -c deploy/gunicorn.conf.py 'wsgi:app'``.

Environment: ``GUNICORN_BIND`` (default 127.0.0.1:8000), ``WEB_CONCURRENCY`` (worker
processes, default 2: about one per core) and ``GUNICORN_THREADS`` (threads per worker,
default 4: requests wait on PostgreSQL about half of the time). Command-line options
override these.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# At most two open connections per thread in each worker. Without a cap, keep-alive
# connections stay with whichever worker accepted them first, and that worker, held to
# one core by the GIL, sets the pace while the other idles (bench/README.md has the
# figures from bench/web_load.py).
# Connections over the cap wait in the listen backlog until a worker has room.
worker_connections = 2 * threads
