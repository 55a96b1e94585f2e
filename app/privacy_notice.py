"""The privacy notice: one source for the consent screen and the privacy page.

Changing what is kept means changing this list and CONSENT_VERSION in app/config.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class DataItem:
    what: str
    why: str
    who_sees: str
    how_long: str


def data_items() -> list[DataItem]:
    return [
        DataItem(
            what=_l("Email address and password (stored only as a salted hash)"),
            why=_l("To let you log in and to contact you about your account"),
            who_sees=_l("Nobody but you; administrators only to fix account problems"),
            how_long=_l("Until you delete your account"),
        ),
        DataItem(
            what=_l("Display name"),
            why=_l("To greet you on the site; it is never shown next to your votes or proposals"),
            who_sees=_l("You and administrators"),
            how_long=_l("Until you delete your account"),
        ),
        DataItem(
            what=_l("Relation to the town (resident, e-citizen / kankei jinkō, visitor)"),
            why=_l("To show results by kind of participant and to apply a round's rules"),
            who_sees=_l("Everyone, only as totals; never linked to you"),
            how_long=_l("Until you delete your account"),
        ),
        DataItem(
            what=_l("Your votes and proposals"),
            why=_l("To find opinion groups and proposals that people across groups support"),
            who_sees=_l(
                "Everyone sees proposal texts and totals, never a count of fewer than 5 "
                "people; open data lists votes under a random number that changes with every "
                "download and only with the day, not the time, so it cannot be linked to your "
                "account"
            ),
            how_long=_l(
                "Kept after you delete your account, under an anonymous number with the time "
                "the account was made (and, in rounds for verified residents, a fingerprint "
                "that keeps you from voting there again with another account), so that "
                "published results stay correct and accounts made together in large numbers "
                "can still be checked"
            ),
        ),
        DataItem(
            what=_l("A record of what you did that changes the site (registering, proposals, "
                    "reports)"),
            why=_l("So that every decision can be checked afterwards (the audit log)"),
            who_sees=_l(
                "Facilitators and administrators, with a short code instead of your name; the "
                "code is different in each round, so it does not lead to your account"
            ),
            how_long=_l("Kept for accountability; it holds none of your personal data"),
        ),
        DataItem(
            what=_l("Language choice and the date you gave consent"),
            why=_l("To show the site in your language and to prove your consent"),
            who_sees=_l("You and administrators"),
            how_long=_l("Until you delete your account"),
        ),
    ]


def not_collected() -> list[str]:
    return [
        str(_l("We do not ask for your real name, address, age or gender.")),
        str(_l("We use no tracking, no advertising and no third-party cookies.")),
    ]


def your_rights() -> list[str]:
    """What a person can do with their data; shown on the consent screen and privacy page."""
    return [
        str(_l("You can download all your data as a file at any time (Account, My data).")),
        str(_l(
            "You can delete your account at any time. Your email address, display name, "
            "password and language choice are then erased. Your votes and proposals stay in "
            "the results under an anonymous number that can no longer be linked to you."
        )),
        str(_l(
            "The deletion is recorded in the audit log without any of your personal data."
        )),
    ]
