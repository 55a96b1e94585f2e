"""Every endpoint, as the least role that may use it, sent a form with nothing in it (with
and without htmx) and the methods it does not take: a clear answer in Japanese, never a
500, and an empty form stores no row."""

from __future__ import annotations

import pytest
from flask import Flask, url_for

from tests.i18n.test_error_paths_japanese import english_in
from tests.security.conftest import client_for, quick_user, table_counts
from tests.security.test_authorization_matrix import (
    ANONYMOUS,
    MATRIX,
    rules_by_endpoint,
    url_values,
)

JA = {"Accept-Language": "ja"}
# Endpoints whose button is the whole input (sign out, send the confirmation mail again,
# retry a mail or every failed one, close a workshop, two checkboxes): they may change rows,
# but still answer in Japanese.
ACTS_WITHOUT_INPUT = {"auth.logout", "auth.resend_confirmation", "account.notifications",
                      "admin.retry_mail", "admin.retry_failed_mail", "facilitate.close_workshop"}


@pytest.mark.slow  # every endpoint, up to five requests each
def test_empty_forms_and_wrong_methods_never_fail(app: Flask, db) -> None:
    rules = rules_by_endpoint(app)
    methods_at: dict[str, set[str]] = {}  # one address can serve several endpoints
    for rule in app.url_map.iter_rules():
        methods_at.setdefault(rule.rule, set()).update(rule.methods or ())
    problems = []
    for endpoint, access in sorted(MATRIX.items()):
        rule = rules.get(endpoint)
        if rule is None or endpoint == "static":
            continue
        values = url_values(set(rule.arguments), access)
        with app.test_request_context():
            url = url_for(endpoint, **values)
        role = "citizen" if access.minimum == ANONYMOUS else access.minimum
        client = client_for(app, quick_user(role))
        allowed = methods_at[rule.rule]
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            taken = method in allowed
            for headers in (JA, {**JA, "HX-Request": "true"}) if taken else (JA,):
                before = table_counts() if taken else None
                response = client.open(url, method=method, data={}, headers=headers)
                where = f"{method} {url} {'htmx' if 'HX-Request' in headers else ''}"
                if response.status_code >= 500:
                    problems.append((where, response.status_code))
                    continue
                if not taken and response.status_code != 405:
                    problems.append((where, "not 405", response.status_code))
                if response.mimetype == "text/html":
                    english = english_in(response.get_data(as_text=True))
                    if english:
                        problems.append((where, english[:2]))
                if taken and endpoint not in ACTS_WITHOUT_INPUT and table_counts() != before:
                    problems.append((where, "stored something", response.status_code))
    assert problems == []
