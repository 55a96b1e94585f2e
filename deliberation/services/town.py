"""A town's own Hiroba: its name, operator, contact, terms of use and logo.

Defaults come from the environment (the web layer passes them in); the admin page stores
overrides in ``town_settings``. Every change is audited. A logo is a PNG, JPEG or WebP
image of at most ``LOGO_MAX_BYTES``, recognised by its first bytes (never by the name or
type the browser sends); SVG is refused because an SVG file can carry scripts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from deliberation.database import db
from deliberation.errors import N_, DomainError
from deliberation.models import TownSetting, User, audit
from deliberation.text import clean_text

# Each text setting and its longest length.
TEXT_FIELDS = {
    "name": 100,
    "name_en": 100,
    "operator": 200,
    "operator_en": 200,
    "contact": 500,
    "terms": 20000,
    "terms_en": 20000,
}
LOGO = "logo"
LOGO_MAX_BYTES = 512 * 1024


@dataclass(frozen=True)
class Logo:
    data: bytes
    media_type: str

    @property
    def version(self) -> str:
        """Changes with the image (a cache-busting query string)."""
        return hashlib.sha256(self.data).hexdigest()[:12]


@dataclass(frozen=True)
class Town:
    name: str = ""
    name_en: str = ""
    operator: str = ""
    operator_en: str = ""
    contact: str = ""
    terms: str = ""
    terms_en: str = ""
    logo_version: str | None = None  # None: no logo

    def text(self, field: str, locale: str) -> str:
        """A setting in ``locale``: the English one when asked and set, else the Japanese."""
        if locale == "en" and getattr(self, f"{field}_en", ""):
            return getattr(self, f"{field}_en")
        return getattr(self, field)


def logo_media_type(data: bytes) -> str | None:
    """The image type from the file's first bytes; None for anything else (SVG included)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_logo(data: bytes) -> str:
    """The logo's media type, or a DomainError saying why it cannot be used."""
    if not data:
        raise DomainError(N_("The logo file is empty."), field="logo")
    if len(data) > LOGO_MAX_BYTES:
        raise DomainError(N_("The logo is too large: at most %(kb)s KB."),
                          kb=LOGO_MAX_BYTES // 1024, field="logo")
    media_type = logo_media_type(data)
    if media_type is None:
        raise DomainError(N_("The logo must be a PNG, JPEG or WebP image (SVG is not "
                             "accepted)."), field="logo")
    return media_type


def _rows() -> dict[str, TownSetting]:
    return {row.key: row for row in db.session.scalars(sa.select(TownSetting))}


def current(defaults: Mapping[str, str], default_logo: Logo | None = None) -> Town:
    """The settings in force: a stored override, else the default."""
    rows = _rows()
    values = {field: (rows[field].value if field in rows else defaults.get(field, "")) or ""
              for field in TEXT_FIELDS}
    logo_row = rows.get(LOGO)
    logo = (Logo(logo_row.data, logo_row.value) if logo_row is not None and logo_row.data
            else default_logo)
    return Town(**values, logo_version=logo.version if logo else None)


def stored_logo() -> Logo | None:
    row = db.session.get(TownSetting, LOGO)
    return Logo(row.data, row.value) if row is not None and row.data else None


def overrides() -> dict[str, str]:
    """The text settings stored from the admin page (the form shows them)."""
    rows = _rows()
    return {field: rows[field].value for field in TEXT_FIELDS if field in rows}


def update(values: Mapping[str, str], *, actor: User, logo: bytes | None = None,
           remove_logo: bool = False) -> list[str]:
    """Store the admin page's settings; an empty text goes back to the default. Returns the
    names of the settings that changed (audited). Nothing is stored when one is invalid."""
    cleaned = {}
    for field, limit in TEXT_FIELDS.items():
        text = clean_text(values.get(field) or "")
        if len(text) > limit:
            raise DomainError(N_("This text is too long: at most %(max)s characters."),
                              max=limit, field=field)
        cleaned[field] = text
    media_type = check_logo(logo) if logo is not None else None
    try:
        return _store(cleaned, actor=actor, logo=logo, media_type=media_type,
                      remove_logo=remove_logo)
    except IntegrityError:
        # Saved twice at once (two admins, a double click): the other request added a
        # setting after this one read them; the second pass finds its row and updates it.
        db.session.rollback()
    return _store(cleaned, actor=actor, logo=logo, media_type=media_type,
                  remove_logo=remove_logo)


def _store(cleaned: dict[str, str], *, actor: User, logo: bytes | None,
           media_type: str | None, remove_logo: bool) -> list[str]:
    rows = _rows()
    changed = []
    for field, text in cleaned.items():
        row = rows.get(field)
        if not text:
            if row is not None:
                db.session.delete(row)
                changed.append(field)
        elif row is None:
            db.session.add(TownSetting(key=field, value=text, updated_by_id=actor.id))
            changed.append(field)
        elif row.value != text:
            row.value, row.updated_by_id = text, actor.id
            changed.append(field)
    row = rows.get(LOGO)
    if logo is not None and media_type is not None:
        if row is None:
            db.session.add(TownSetting(key=LOGO, value=media_type, data=logo,
                                       updated_by_id=actor.id))
        else:
            row.value, row.data, row.updated_by_id = media_type, logo, actor.id
        changed.append(LOGO)
    elif remove_logo and row is not None:
        db.session.delete(row)
        changed.append(LOGO)
    if changed:
        audit.record("town.updated", actor=actor, changed=changed)
    db.session.commit()
    return changed
