"""The administrator's town settings form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, StringField, TextAreaField

from app.forms import HirobaForm
from app.validators import Length
from deliberation.services.town import TEXT_FIELDS


class TownForm(HirobaForm):
    name = StringField(_l("Name of the municipality"),
                       validators=[Length(max=TEXT_FIELDS["name"])])
    name_en = StringField(_l("Name in English"), validators=[Length(max=TEXT_FIELDS["name_en"])])
    operator = StringField(_l("Operator (the office that runs this site)"),
                           validators=[Length(max=TEXT_FIELDS["operator"])])
    operator_en = StringField(_l("Operator in English"),
                              validators=[Length(max=TEXT_FIELDS["operator_en"])])
    contact = TextAreaField(_l("Contact (address, telephone, e-mail)"),
                            validators=[Length(max=TEXT_FIELDS["contact"])])
    terms = TextAreaField(_l("Terms of use (Markdown)"),
                          validators=[Length(max=TEXT_FIELDS["terms"])])
    terms_en = TextAreaField(_l("Terms of use in English (Markdown)"),
                             validators=[Length(max=TEXT_FIELDS["terms_en"])])
    logo = FileField(_l("Logo (PNG, JPEG or WebP, at most 512 KB)"))
    remove_logo = BooleanField(_l("Remove the uploaded logo"))
