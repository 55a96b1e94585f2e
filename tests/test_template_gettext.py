"""Templates translate with the request's locale, looking the translations up once."""

from __future__ import annotations

import pytest
from flask import Flask, render_template_string
from flask_babel import force_locale

from app import i18n

CARD = ('{{ _("Agree") }} / {{ _("Disagree") }} / '
        '{{ ngettext("You have voted on %(num)d proposal.", '
        '"You have voted on %(num)d proposals.", 2) }}')
CARD_JA = "賛成 / 反対 / 2件の提案に投票しました。"
CARD_EN = "Agree / Disagree / You have voted on 2 proposals."


def test_strings_are_translated_with_one_lookup_per_request(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups = []
    real = i18n.get_translations
    monkeypatch.setattr(i18n, "get_translations", lambda: lookups.append(1) or real())
    with app.test_request_context("/", headers={"Accept-Language": "ja"}):
        assert render_template_string(CARD) == CARD_JA
        assert render_template_string(CARD) == CARD_JA
    assert len(lookups) == 1
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert render_template_string(CARD) == CARD_EN  # a new request: looked up again
    assert len(lookups) == 2


def test_a_forced_locale_within_a_request_is_followed(app: Flask) -> None:
    with app.test_request_context("/", headers={"Accept-Language": "ja"}):
        assert render_template_string(CARD) == CARD_JA
        with force_locale("en"):
            assert render_template_string(CARD) == CARD_EN
        assert render_template_string(CARD) == CARD_JA


COUNT = '{{ ngettext("%(num)d participant", "%(num)d participants", n) }}'


@pytest.mark.parametrize(("lang", "n", "shown"), [
    ("en", 1, "1 participant"), ("en", 1234, "1,234 participants"),
    ("ja", 1234, "参加者 1,234人"), ("en", 1234567, "1,234,567 participants")])
def test_counts_are_written_as_the_reader_writes_them(app: Flask, lang: str, n: int,
                                                      shown: str) -> None:
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        assert render_template_string(COUNT, n=n) == shown


ARMED = ("Escalation is armed. %(num)d proposal went to the council now.",
         "Escalation is armed. %(num)d proposals went to the council now.")


@pytest.mark.parametrize(("lang", "n", "shown"), [
    ("en", 1, "Escalation is armed. 1 proposal went to the council now."),
    ("en", 1234, "Escalation is armed. 1,234 proposals went to the council now."),
    ("ja", 1234, "自動送付を有効にしました。1,234件の提案を議会に送付しました。")])
def test_the_python_code_writes_counts_as_the_templates_do(app: Flask, lang: str, n: int,
                                                            shown: str) -> None:
    """Flashes, form errors and the commands' output count with the same words."""
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        assert i18n.ngettext(*ARMED, n) == shown


def test_the_python_code_fills_in_its_other_placeholders(app: Flask) -> None:
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert i18n.ngettext("%(num)d vote saved for %(label)s.",
                             "%(num)d votes saved for %(label)s.", 2500,
                             label="Sheet A") == "2,500 votes saved for Sheet A."
    with app.app_context(), force_locale("en"):  # a command: no request
        assert i18n.ngettext("Escalated %(num)d proposal.", "Escalated %(num)d proposals.",
                             1000) == "Escalated 1,000 proposals."
