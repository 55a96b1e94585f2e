"""The reader setting for Japanese pages: standard, furigana, or easy Japanese.

Kept in the session, and in the account (``users.reading``) once logged in; it applies
to pages shown in Japanese only. Furigana are added to the finished HTML (interface text
and what people wrote alike) by ``add_furigana`` after each request; in easy Japanese,
interface messages come from ``yasashii.po`` where it has them (``app.reading.easy``).
"""

from __future__ import annotations

from flask import Blueprint, Flask, g, has_request_context, request, session
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from app import outage
from deliberation.models.user import READING_MODES

bp = Blueprint("reading", __name__)
SESSION_KEY = "reading"
# How each way of writing is named, on the settings page and on the personal-data page.
READING_LABELS = {
    "standard": _l("Standard Japanese"),
    "furigana": _l("Standard Japanese with furigana (readings over the kanji)"),
    "easy": _l("Easy Japanese (やさしい日本語) with furigana: short sentences and everyday words"),
}


def chosen_mode() -> str:
    """The reader's choice, whatever the page's language."""
    if not outage.active() and current_user and current_user.is_authenticated \
            and current_user.reading in READING_MODES:
        return current_user.reading
    chosen = session.get(SESSION_KEY)
    return chosen if chosen in READING_MODES else "standard"


def mode() -> str:
    """How this request's page is written: the choice when the page is in Japanese
    (``flask_babel.force_locale`` may change the language within a request, for mails)."""
    if not has_request_context():
        return "standard"
    locale = str(get_locale())
    cached = g.get("hiroba_reading")
    if cached is None or cached[0] != locale:
        cached = g.hiroba_reading = (locale, chosen_mode() if locale == "ja" else "standard")
    return cached[1]


def add_furigana(response: Response) -> Response:
    if response.mimetype != "text/html" or response.direct_passthrough \
            or response.is_streamed or mode() == "standard":
        return response
    from app.reading.furigana import annotate_html

    response.set_data(annotate_html(response.get_data(as_text=True)))
    return response


def use_easy_japanese() -> None:
    """The request's messages come through ``EASY_JAPANESE``, which asks ``mode`` when the
    first one is looked up (not here: the account is not loaded before the view)."""
    if request.endpoint != "static":
        from app.reading.easy import EASY_JAPANESE

        EASY_JAPANESE.as_default()


def init_app(app: Flask) -> None:
    app.before_request(use_easy_japanese)
    app.after_request(add_furigana)

    @app.context_processor
    def _reading_mode() -> dict[str, str]:
        return {"reading_mode": mode()}


from app.reading import routes  # noqa: E402,F401
