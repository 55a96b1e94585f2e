"""Language and time zone: the user's choice, then the session, then Accept-Language.

Also the templates' gettext: Flask-Babel's looks up the request's locale and translations
again for every string; ``install_template_gettext`` makes templates look them up once per
request and locale instead (figures in bench/README.md).
"""

from __future__ import annotations

from functools import cache

from babel import Locale
from babel.support import NullTranslations
from flask import Flask, current_app, g, request, session
from flask_babel import format_number, get_locale, get_translations
from flask_login import current_user

from app import outage

SESSION_KEY = "lang"
# The count in every plural message, the templates' and the Python code's (``ngettext``).
COUNT_PLACEHOLDER = "%(num)d"


def switched_language() -> str | None:
    """The language picked with the language switch in this session, if any."""
    chosen = session.get(SESSION_KEY)
    return chosen if chosen in current_app.config["LANGUAGES"] else None


def select_locale() -> Locale:
    languages = current_app.config["LANGUAGES"]
    # Reading ``current_user`` may load the account: not while the database is down.
    if not outage.active() and current_user and current_user.is_authenticated \
            and current_user.locale in languages:
        return parsed_locale(current_user.locale)
    return parsed_locale(switched_language() or request.accept_languages.best_match(languages)
                         or languages[0])


@cache
def parsed_locale(code: str) -> Locale:
    """Babel's locale for ``code``, parsed once per process: Flask-Babel takes a Locale as
    it is, where parsing the code again costs more than the rest of the selection."""
    return Locale.parse(code)


def select_timezone() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def request_translations() -> NullTranslations:
    """Flask-Babel's translations for this request, looked up once per request and locale
    (``flask_babel.force_locale`` and ``refresh`` change the locale within a request)."""
    locale = get_locale()
    cached = g.get("hiroba_translations")
    if cached is None or cached[0] is not locale:
        cached = g.hiroba_translations = (locale, get_translations())
    return cached[1]


def plural_text(singular: str, plural: str, n: int) -> str:
    """The plural message for ``n`` with its count written as the reader's locale writes
    numbers (1,234), like the ``num`` filter; its other placeholders are left to fill.

    ``%(num)d`` would write the bare integer, so the count goes in first (a formatted
    number holds no ``%``, so what is filled in after is unchanged)."""
    text = request_translations().ungettext(singular, plural, n)
    return text.replace(COUNT_PLACEHOLDER, format_number(n))


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    """Flask-Babel's ``ngettext`` for the Python code (flashes, form errors, the ``flask``
    commands' output), with the count written as in the templates: ``%(num)d`` in the
    message is ``n``, as the reader's locale writes it."""
    variables.setdefault("num", n)
    return plural_text(singular, plural, n) % variables


def install_template_gettext(app: Flask) -> None:
    """Call after ``Babel.init_app``: the same callables as Flask-Babel's, cached."""

    def gettext(string: str) -> str:
        return request_translations().ugettext(string)

    def template_ngettext(singular: str, plural: str, n: int) -> str:
        # Jinja fills in the other placeholders itself (escaping them).
        return plural_text(singular, plural, n)

    def pgettext(context: str, string: str) -> str:
        return request_translations().upgettext(context, string)

    def npgettext(context: str, singular: str, plural: str, n: int) -> str:
        return request_translations().unpgettext(context, singular, plural, n)

    app.jinja_env.install_gettext_callables(
        gettext=gettext, ngettext=template_ngettext, newstyle=True, pgettext=pgettext,
        npgettext=npgettext,
    )
