"""Pages for requests a web server refuses before the app sees them: a request line too
long to read (414) or headers too large (431), as a very long link or a cookie jar grown
too big can cause. The server writes these itself, outside any request, so they are built
here from the app's compiled catalogs, in Japanese then English, in place of the servers'
bare English pages. gunicorn's worker (deploy/gunicorn.conf.py) and the server of
``flask serve`` both use them; they need Babel only, since gunicorn loads them before the app.
"""

from __future__ import annotations

import html
from http import HTTPStatus
from pathlib import Path

from babel.support import Translations

CATALOGS = Path(__file__).resolve().parent / "translations"


def N_(message: str) -> str:  # marks a message for the catalogs
    return message


PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{ja[title]} / {en[title]}</title></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem">
<h1>{ja[title]}</h1><p>{ja[text]}</p>
<p><a href="/">{ja[home]}</a></p>
<hr><div lang="en"><h2>{en[title]}</h2><p>{en[text]}</p><p><a href="/">{en[home]}</a></p></div>
</body></html>
"""
WORDS = {
    HTTPStatus.REQUEST_URI_TOO_LONG: {
        "title": N_("Address too long"),
        "text": N_("The address (URL) is too long. Please go back and open the page from a "
                   "link or the menu.")},
    HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE: {
        "title": N_("Too much was sent"),
        "text": N_("Your browser sent too much (cookies, for example). Please delete this "
                   "site's cookies and open the page again.")},
}


def refusal_page(status: HTTPStatus) -> bytes:
    """The page for ``status`` (one of ``WORDS``), UTF-8 encoded."""
    translated = {}
    for language in ("ja", "en"):
        catalog = Translations.load(str(CATALOGS), [language])
        translated[language] = {key: html.escape(catalog.gettext(message)) for key, message in
                                {**WORDS[status], "home": N_("Back to the home page")}.items()}
    return PAGE.format(**translated).encode("utf-8")


def refusal_response(status: HTTPStatus) -> bytes:
    """A whole HTTP/1.1 response with that page, the connection closed after it."""
    body = refusal_page(status)
    head = (f"HTTP/1.1 {status.value} {status.phrase}\r\nConnection: close\r\n"
            f"Content-Type: text/html; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("ascii")
    return head + body
