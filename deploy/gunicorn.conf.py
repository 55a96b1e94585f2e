"""gunicorn settings for Hiroba's web processes: ``gunicorn -c deploy/gunicorn.conf.py 'wsgi:app'``.

Environment: ``GUNICORN_BIND`` (default 127.0.0.1:8000), ``WEB_CONCURRENCY`` (worker
processes, default 2: about one per core) and ``GUNICORN_THREADS`` (threads per worker,
default 4: requests wait on PostgreSQL about half of the time). Command-line options
override these.
"""

import html
import os
from pathlib import Path

from babel.support import Translations
from gunicorn.http.errors import LimitRequestHeaders, LimitRequestLine
from gunicorn.util import write_nonblock
from gunicorn.workers.gthread import ThreadWorker

CATALOGS = Path(__file__).resolve().parents[1] / "app" / "translations"


def N_(message: str) -> str:  # marks a message for the catalogs (babel.cfg reads deploy/)
    return message


# gunicorn's own refusals come before the app (and its translations) sees the request, so
# the two a browser can cause (a very long link, a cookie jar grown too big) get a page
# here, in Japanese then English, in place of gunicorn's English "Bad Request". The words
# are the app's own, from its compiled catalogs.
TOO_LARGE_PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{ja[title]} / {en[title]}</title></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem">
<h1>{ja[title]}</h1><p>{ja[text]}</p>
<p><a href="/">{ja[home]}</a></p>
<hr><div lang="en"><h2>{en[title]}</h2><p>{en[text]}</p><p><a href="/">{en[home]}</a></p></div>
</body></html>
"""
TOO_LARGE = {
    LimitRequestLine: ("414 URI Too Long", {
        "title": N_("Address too long"),
        "text": N_("The address (URL) is too long. Please go back and open the page from a "
                   "link or the menu.")}),
    LimitRequestHeaders: ("431 Request Header Fields Too Large", {
        "title": N_("Too much was sent"),
        "text": N_("Your browser sent too much (cookies, for example). Please delete this "
                   "site's cookies and open the page again.")}),
}


def refusal_page(words: dict[str, str]) -> bytes:
    translated = {}
    for language in ("ja", "en"):
        catalog = Translations.load(str(CATALOGS), [language])
        translated[language] = {key: html.escape(catalog.gettext(message)) for key, message in
                                {**words, "home": N_("Back to the home page")}.items()}
    return TOO_LARGE_PAGE.format(**translated).encode("utf-8")


class HirobaThreadWorker(ThreadWorker):
    """gunicorn's gthread worker with readable pages for requests too large to read."""

    def handle_error(self, req, client, addr, exc):
        refusal = next((TOO_LARGE[kind] for kind in TOO_LARGE if isinstance(exc, kind)), None)
        if refusal is None:
            return super().handle_error(req, client, addr, exc)
        status, words = refusal
        self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
        body = refusal_page(words)
        head = (f"HTTP/1.1 {status}\r\nConnection: close\r\n"
                f"Content-Type: text/html; charset=utf-8\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode("ascii")
        try:
            write_nonblock(client, head + body)
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
