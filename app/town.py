"""The town's settings in the web layer: defaults from the configuration, overrides from
the database (``deliberation.services.town``), looked up once per request."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_request_context, request
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.exc import SQLAlchemyError

from app import outage
from deliberation.database import db
from deliberation.errors import DomainError
from deliberation.services import town as service

log = logging.getLogger(__name__)


def _read_file(path: str | None, what: str) -> bytes | None:
    if not path:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as error:
        log.warning("%s %s cannot be read: %s", what, path, error)
        return None


def load_defaults(app: Flask) -> None:
    """Read the configured defaults once: texts, the terms files, the logo file (checked
    like an uploaded logo; an unusable file is left out with a warning)."""
    config = app.config
    terms = _read_file(config.get("TOWN_TERMS_FILE"), "HIROBA_TOWN_TERMS_FILE")
    terms_en = _read_file(config.get("TOWN_TERMS_EN_FILE"), "HIROBA_TOWN_TERMS_EN_FILE")
    defaults = {
        "name": config.get("TOWN_NAME", ""), "name_en": config.get("TOWN_NAME_EN", ""),
        "operator": config.get("TOWN_OPERATOR", ""),
        "operator_en": config.get("TOWN_OPERATOR_EN", ""),
        "contact": config.get("TOWN_CONTACT", ""),
        "terms": terms.decode("utf-8", "replace") if terms else "",
        "terms_en": terms_en.decode("utf-8", "replace") if terms_en else "",
    }
    logo = None
    data = _read_file(config.get("TOWN_LOGO_FILE"), "HIROBA_TOWN_LOGO_FILE")
    if data is not None:
        try:
            logo = service.Logo(data, service.check_logo(data))
        except DomainError as error:
            log.warning("HIROBA_TOWN_LOGO_FILE is not used: %s", error.english())
    app.extensions["hiroba_town"] = (defaults, logo)


def defaults() -> dict[str, str]:
    return current_app.extensions["hiroba_town"][0]


def default_logo() -> service.Logo | None:
    return current_app.extensions["hiroba_town"][1]


CACHE_KEY = "hiroba.town"  # in the WSGI environ: one lookup per request


def current() -> service.Town:
    """The settings in force for this request (defaults alone while the database is down)."""
    cache = request.environ if has_request_context() else {}
    town = cache.get(CACHE_KEY)
    if town is None:
        if outage.active():
            return service.Town(**defaults(), logo_version=None)
        try:
            town = service.current(defaults(), default_logo())
        except SQLAlchemyError:  # e.g. before `flask db upgrade`: the pages still render
            db.session.rollback()
            log.exception("town settings could not be read")
            return service.Town(**defaults(), logo_version=None)
        cache[CACHE_KEY] = town
    return town


def forget() -> None:
    """After a change: the next lookup reads the new settings."""
    if has_request_context():
        request.environ.pop(CACHE_KEY, None)


def logo() -> service.Logo | None:
    return service.stored_logo() or default_logo()


class Localized:
    """The settings for templates, in the current language (``town.name`` ...); read from
    the database on first use only, so pages that show none of them cost nothing."""

    def __getattr__(self, field: str) -> Any:
        settings = current()
        if field in service.TEXT_FIELDS:
            return settings.text(field, str(get_locale() or "ja"))
        return getattr(settings, field)

    @property
    def site_name(self) -> str:
        """The name in titles and mails: the town's Hiroba, or Hiroba alone."""
        name = self.name
        return _("%(town)s Hiroba", town=name) if name else _("Hiroba")

    def as_dict(self) -> dict[str, str]:
        """For exports: the name, operator and contact in the request's language."""
        return {"name": self.name, "operator": self.operator, "contact": self.contact}


def localized() -> Localized:
    return Localized()


def init_app(app: Flask) -> None:
    load_defaults(app)

    @app.context_processor
    def town_for_templates() -> dict[str, Any]:
        return {"town": localized()}
