"""The interface to a national-ID app (the Digital Agency's デジタル認証アプリ, JPKI).

A town that contracts such a service writes one class with the two methods of
``NationalIdVerifier`` and names it in the configuration
(``NATIONAL_ID_VERIFIER = "package.module:ClassName"``); Hiroba then offers
"verify with the national ID app" on the account page. Without it, the option is not shown.

The flow is the usual redirect round trip of an identity provider:

1. ``start(state, return_url)``: Hiroba passes an unguessable ``state`` bound to the
   account's session and the URL to come back to; the verifier answers the URL of the
   app's page (OpenID Connect authorisation request, or the app's own hand-off).
2. The person proves who they are in the app (My Number card, PIN) and is sent back to
   ``return_url`` with the provider's parameters.
3. ``complete(state, params)``: the verifier checks the answer with the provider (the
   state, the signature, the audience) and returns a ``NationalIdResult``: whether the
   certified address lies in the town, and the provider's pseudonym of the person for
   this town, by which Hiroba refuses a second account verified by the same person.

What must never reach Hiroba: the My Number, the certificate's serial number, the name,
birth date or the full address. The verifier reduces the provider's answer to the
attribute "resident of this town: yes/no" before returning; the result type has no field
for anything more, and Hiroba stores only "verified as a resident, when, method
national_id, provider name".

Tests use a test double (tests/verification/); there is no fake verifier in the app.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class NationalIdResult:
    """The only thing a verifier returns: is the certified address in the town?"""

    resident: bool
    provider: str  # e.g. "digital-auth-app", for the record of how the account was verified
    # The provider's pseudonym of the person for this town (OpenID Connect's pairwise
    # ``sub``), never the My Number or the certificate's serial number: Hiroba keeps a keyed
    # hash of it so that one person verifies one account. None: the provider gives none,
    # and one card can verify several accounts.
    subject: str | None = None


class NationalIdError(Exception):
    """The provider refused or the answer could not be checked (shown as a plain message)."""


@runtime_checkable
class NationalIdVerifier(Protocol):
    """Implemented by a town's integration with a national-ID service."""

    name: str  # shown to people, e.g. "デジタル認証アプリ"

    def start(self, state: str, return_url: str) -> str:
        """The URL where the person proves their identity."""

    def complete(self, state: str, params: Mapping[str, str]) -> NationalIdResult:
        """Check the provider's answer (raise ``NationalIdError`` if it does not hold)."""


def load_verifier(spec: str | None) -> NationalIdVerifier | None:
    """The configured verifier (``"module:Class"``), or None when none is configured."""
    if not spec:
        return None
    module_name, _, class_name = spec.partition(":")
    verifier = getattr(importlib.import_module(module_name), class_name)()
    if not isinstance(verifier, NationalIdVerifier):
        raise TypeError(f"{spec} does not implement NationalIdVerifier")
    return verifier
