from __future__ import annotations

import pytest

EN = {"Accept-Language": "en"}


@pytest.fixture()
def facilitator(login_as):
    return login_as("facilitator")
