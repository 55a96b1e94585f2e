"""Language and time zone: the user's choice, then the session, then Accept-Language."""

from __future__ import annotations

from flask import current_app, request, session
from flask_login import current_user

SESSION_KEY = "lang"


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get(SESSION_KEY) in languages:
        return session[SESSION_KEY]
    return request.accept_languages.best_match(languages) or languages[0]


def select_timezone() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]
