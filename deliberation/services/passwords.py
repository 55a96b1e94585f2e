"""The password rule: long enough, not common or leaked, not one's own address or name.

"Common or leaked" is decided offline with zxcvbn's estimator and the word lists it ships
(among them the 30,000 most frequent passwords of public breach corpora): a password that
would fall within about a million guesses (score below 2) is refused, which covers
``password``, ``12345678``, keyboard walks, dates and dictionary words with digits. The
address and display name are passed as words the attacker knows, so a password made of
them is refused as well, and a password that contains the address is refused outright.
"""

from __future__ import annotations

from deliberation.errors import N_, DomainError

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 200
MIN_SCORE = 2
# zxcvbn's own limit: longer passwords are judged by their first 72 characters.
ESTIMATE_LENGTH = 72


TOO_SHORT = N_("The password must have at least 8 characters.")
TOO_LONG = N_("The password must have at most 200 characters.")
IS_EMAIL = N_("Please do not use your email address as your password.")
TOO_COMMON = N_(
    "This password is too easy to guess (it is common or appears in leaked password "
    "lists). Please choose a longer one, for example a few unrelated words."
)


def check(password: str, *, email: str | None = None, display_name: str | None = None) -> None:
    """Raise ``DomainError`` when ``password`` may not be used."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(TOO_SHORT, field="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise DomainError(TOO_LONG, field="password")
    known: list[str] = []
    if email:
        address = email.strip().lower()
        local = address.partition("@")[0]
        if address in password.lower() or (len(local) >= 4 and password.lower() == local):
            raise DomainError(IS_EMAIL, field="password")
        known += [address, local]
    if display_name:
        known.append(display_name)
    # imported here: loading its word lists takes a good part of a second, which commands
    # that never check a password (the clustering CLI, the worker) need not pay
    from zxcvbn import zxcvbn

    if zxcvbn(password[:ESTIMATE_LENGTH], user_inputs=known)["score"] < MIN_SCORE:
        raise DomainError(TOO_COMMON, field="password")
