"""The authorization matrix: every endpoint, its minimum role, checked for every role.

A new route fails ``test_every_endpoint_is_in_the_matrix`` until it is added to MATRIX.
To add one: give its minimum role; if its URL has arguments, make sure ``url_values``
can fill them (add the fixture object there); set ``ok`` if the minimum role gets something
other than 200 (e.g. a redirect). POST-only endpoints are checked for refusal (anonymous ->
login, lower roles -> 403) but not for success, which needs valid form data (tested in the
area's own tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.security.conftest import client_for, quick_user

ANONYMOUS, CITIZEN, FACILITATOR, COUNCIL, ADMIN = (
    "anonymous", "citizen", "facilitator", "council", "admin")
ROLES = (ANONYMOUS, CITIZEN, FACILITATOR, COUNCIL, ADMIN)

# Which roles reach an endpoint of a given minimum role (admins always pass).
ALLOWED = {
    ANONYMOUS: set(ROLES),
    CITIZEN: {CITIZEN, FACILITATOR, COUNCIL, ADMIN},
    FACILITATOR: {FACILITATOR, ADMIN},
    COUNCIL: {COUNCIL, ADMIN},
    ADMIN: {ADMIN},
}


@dataclass(frozen=True)
class Access:
    minimum: str
    ok: tuple[int, ...] = (200,)  # what an allowed role gets for GET
    args: dict[str, Any] = field(default_factory=dict)  # fixed URL arguments
    note: str = ""


MATRIX: dict[str, Access] = {
    "static": Access(ANONYMOUS, args={"filename": "css/hiroba.css"}),
    "main.index": Access(ANONYMOUS),
    "main.privacy": Access(ANONYMOUS),
    "main.set_language": Access(ANONYMOUS),
    "main.how_it_works": Access(ANONYMOUS),
    "a11y.statement_page": Access(ANONYMOUS),
    "reading.settings": Access(ANONYMOUS),
    "reading.choose": Access(ANONYMOUS),
    "main.terms": Access(ANONYMOUS),
    "main.favicon": Access(ANONYMOUS),
    "main.town_logo": Access(ANONYMOUS, ok=(404,), note="no logo set in the test"),
    "auth.login": Access(ANONYMOUS, ok=(200, 303), note="logged in: redirected on"),
    "auth.register": Access(ANONYMOUS, ok=(200, 303), note="logged in: redirected on"),
    "auth.logout": Access(ANONYMOUS),
    "auth.change_password": Access(CITIZEN),
    "auth.check_mail": Access(ANONYMOUS),
    "auth.confirm_email": Access(ANONYMOUS, ok=(400,), args={"token": "not-a-token"},
                                 note="the signed token is the credential"),
    "auth.resend_confirmation": Access(CITIZEN),
    "auth.reset_request": Access(ANONYMOUS),
    "auth.reset_password": Access(ANONYMOUS, ok=(400,), args={"token": "not-a-token"}),
    "account.change_email": Access(CITIZEN),
    "account.confirm_email_change": Access(ANONYMOUS, ok=(400,), args={"token": "not-a-token"}),
    "account.notifications": Access(CITIZEN),
    "account.unsubscribe": Access(ANONYMOUS, ok=(400,), args={"token": "not-a-token"}),
    "devmail.index": Access(ANONYMOUS, ok=(404,), note="development configuration only"),
    "devmail.show": Access(ANONYMOUS, ok=(404,), args={"name": "20261129T000000000000Z.eml"}),
    "account.index": Access(CITIZEN),
    "account.download": Access(CITIZEN),
    "account.data_page": Access(CITIZEN),
    "account.delete": Access(CITIZEN),
    "rounds.show": Access(ANONYMOUS),
    "rounds.proposals": Access(ANONYMOUS),
    "rounds.proposal": Access(ANONYMOUS),
    "rounds.results_page": Access(ANONYMOUS),
    "rounds.vote": Access(CITIZEN),
    "rounds.cast": Access(CITIZEN),
    "rounds.mine": Access(CITIZEN),
    "rounds.propose": Access(CITIZEN),
    "rounds.report": Access(CITIZEN),
    "api.openapi": Access(ANONYMOUS),
    "api.csrf_token": Access(ANONYMOUS),
    "api.rounds": Access(ANONYMOUS),
    "api.round_detail": Access(ANONYMOUS),
    "api.proposals": Access(ANONYMOUS),
    "api.results": Access(ANONYMOUS),
    "api.agenda": Access(ANONYMOUS),
    "api.vote": Access(CITIZEN),
    "api.propose": Access(CITIZEN),
    "health.healthz": Access(ANONYMOUS),
    "agenda.public_index": Access(ANONYMOUS),
    "agenda.public_item": Access(ANONYMOUS),
    "agenda.mark_seen": Access(ANONYMOUS),
    "agenda.open_data": Access(ANONYMOUS, args={"slug": "finished"},
                               note="404 unless the round enables open data and takes no more "
                                    "votes"),
    "agenda.council_index": Access(COUNCIL),
    "agenda.council_item": Access(COUNCIL),
    "agenda.update_response": Access(COUNCIL),
    "agenda.item_dossier": Access(COUNCIL),
    "agenda.round_dossier": Access(COUNCIL),
    "agenda.council_export": Access(COUNCIL, args={"fmt": "csv"}),
    "agenda.manual_escalation": Access(FACILITATOR),
    "agenda.withdraw": Access(FACILITATOR),
    "facilitate.rounds": Access(FACILITATOR),
    "facilitate.new_round": Access(FACILITATOR),
    "facilitate.round_detail": Access(FACILITATOR),
    "facilitate.edit_round": Access(FACILITATOR),
    "facilitate.change_phase": Access(FACILITATOR),
    "facilitate.seeds": Access(FACILITATOR),
    "facilitate.polis_upload": Access(FACILITATOR),
    "facilitate.polis_import_status": Access(FACILITATOR),
    "facilitate.moderation_queue": Access(FACILITATOR),
    "facilitate.audit_all": Access(FACILITATOR),
    "facilitate.audit_round": Access(FACILITATOR),
    "facilitate.assisted": Access(FACILITATOR),
    "facilitate.assisted_votes": Access(FACILITATOR),
    "facilitate.present": Access(FACILITATOR),
    "facilitate.decide_review": Access(FACILITATOR),
    "facilitate.arm_escalation": Access(FACILITATOR),
    "facilitate.preview": Access(FACILITATOR),
    "facilitate.dashboard_all": Access(FACILITATOR),
    "facilitate.dashboard_round": Access(FACILITATOR),
    "facilitate.workshops_page": Access(FACILITATOR),
    "facilitate.workshop": Access(FACILITATOR),
    "facilitate.workshop_qr": Access(FACILITATOR),
    "facilitate.close_workshop": Access(FACILITATOR),
    "main.workshop_link": Access(ANONYMOUS, ok=(303,), args={"code": "ABCDEFGHJK"},
                                note="to the registration page, or the round when logged in"),
    "account.verification_page": Access(CITIZEN),
    "account.redeem_code": Access(CITIZEN),
    "account.national_id_start": Access(CITIZEN, note="404 unless a verifier is configured"),
    "account.national_id_return": Access(CITIZEN, ok=(404,),
                                         note="404 unless a verifier is configured"),
    "verify.index": Access(COUNCIL),
    "verify.account": Access(COUNCIL),
    "verify.counter": Access(COUNCIL),
    "verify.revoke": Access(COUNCIL),
    "verify.postal_codes": Access(COUNCIL),
    "verify.postal_codes_posted": Access(COUNCIL),
    "admin.users": Access(ADMIN),
    "admin.set_role": Access(ADMIN),
    "admin.mail": Access(ADMIN),
    "admin.retry_mail": Access(ADMIN),
    "admin.retry_failed_mail": Access(ADMIN),
    "admin.town_settings": Access(ADMIN),
}


def _pk(row: Any) -> int:
    """A row's id without reading the row again after a commit expired it."""
    return sa.inspect(row).identity[0]


def url_values(rule_arguments: set[str], access: Access) -> dict[str, Any]:
    """Fill a rule's URL arguments from fixture objects (created here, per test)."""
    from datetime import timedelta

    from deliberation.database import db
    from deliberation.models import (
        Escalation,
        EscalationReview,
        ImportJob,
        OfficialResponse,
        utcnow,
    )

    round_ = factories.make_round(phase="voting", open_data_enabled=True)
    slug = round_.slug
    from deliberation.models import Round

    if db.session.scalar(sa.select(Round.id).where(Round.slug == "finished")) is None:
        # voting has ended: its open data is published (agenda.open_data)
        factories.make_round(slug="finished", phase="reflection", open_data_enabled=True)
    proposal = factories.make_proposal(round_)
    user = quick_user()
    assisted = factories.make_participant(round_, source="assisted", label="workshop")
    escalation = Escalation(proposal_id=_pk(proposal), round_id=_pk(round_), kind="manual",
                            reason="test")
    db.session.add(escalation)
    db.session.flush()
    db.session.add(OfficialResponse(escalation_id=escalation.id, status="received",
                                    due_at=utcnow() + timedelta(days=60)))
    db.session.commit()
    review = EscalationReview(proposal_id=_pk(factories.make_proposal(round_)),
                              round_id=_pk(round_), evidence={})
    db.session.add(review)
    # one unfinished import per address: each call queues its own
    job = ImportJob(slug=f"queued-{slug}", round_phase="voting")
    db.session.add(job)
    db.session.commit()
    from deliberation.services import workshops

    workshop = workshops.open_workshop(round_, actor=None, label="Hall", hours=2, seats=10)
    from deliberation.mail.compose import Mail
    from deliberation.services import mail as outbox

    outgoing = outbox.queue(Mail(to="someone@example.org", subject="s", text="t"),
                            purpose="test", sender=outbox.Sender("hiroba@localhost", "Hiroba"))
    db.session.commit()
    known: dict[str, Any] = {
        "mail_id": _pk(outgoing),
        "workshop_id": _pk(workshop),
        "job_id": _pk(job),
        "review_id": _pk(review),
        "escalation_id": _pk(escalation),
        "participant_id": _pk(assisted),
        "slug": slug,
        "round_slug": slug,
        "round_id": _pk(round_),
        "proposal_id": _pk(proposal),
        "user_id": _pk(user),
        **access.args,
    }
    missing = rule_arguments - known.keys()
    assert not missing, f"add fixture values for URL arguments {sorted(missing)} in url_values()"
    return {name: known[name] for name in rule_arguments}


def rules_by_endpoint(app: Flask) -> dict[str, Any]:
    return {rule.endpoint: rule for rule in app.url_map.iter_rules()}


def test_every_endpoint_is_in_the_matrix(app: Flask) -> None:
    missing = sorted(set(rules_by_endpoint(app)) - MATRIX.keys())
    assert not missing, f"endpoints without an authorization entry in MATRIX: {missing}"
    stale = sorted(MATRIX.keys() - set(rules_by_endpoint(app)))
    assert not stale, f"MATRIX names endpoints that no longer exist: {stale}"


def _is_login_redirect(response) -> bool:
    return response.status_code in (302, 303) and "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("endpoint", sorted(MATRIX))
def test_access_by_role(app: Flask, db, endpoint: str) -> None:
    rule = rules_by_endpoint(app).get(endpoint)
    if rule is None:
        pytest.skip(f"{endpoint} is not registered on this branch")
    access = MATRIX[endpoint]
    values = url_values(set(rule.arguments), access)
    with app.test_request_context():
        from flask import url_for

        url = url_for(endpoint, **values)
    method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
    for role in ROLES:
        user = None if role == ANONYMOUS else quick_user(role)
        response = client_for(app, user).open(url, method=method)
        response.close()  # static files are streamed
        allowed = role in ALLOWED[access.minimum]
        where = f"{method} {url} as {role}"
        if allowed:
            if method == "GET":
                assert response.status_code in access.ok, (where, response.status_code)
            else:
                assert response.status_code not in (401, 403), where
                assert not _is_login_redirect(response), where
        elif role == ANONYMOUS and url.startswith("/api/"):
            assert response.status_code == 401, (where, response.status_code)
        elif role == ANONYMOUS:
            assert _is_login_redirect(response), (where, response.status_code)
        else:
            assert response.status_code == 403, (where, response.status_code)


@pytest.mark.parametrize("endpoint", sorted(e for e, a in MATRIX.items()
                                            if a.minimum in (FACILITATOR, COUNCIL, ADMIN)))
def test_staff_views_declare_their_roles(app: Flask, endpoint: str) -> None:
    view = app.view_functions.get(endpoint)
    if view is None:
        pytest.skip(f"{endpoint} is not registered on this branch")
    roles = getattr(view, "required_roles", None)
    assert roles is not None, f"{endpoint} is not wrapped by role_required"
    minimum = MATRIX[endpoint].minimum
    assert (minimum in roles) or (minimum == ADMIN and roles == ("admin",)), (endpoint, roles)


def test_role_required_attaches_required_roles() -> None:
    from app.authz import admin_required, council_required, facilitator_required, role_required

    def view() -> str:
        return "ok"

    assert role_required("facilitator", "council")(view).required_roles == (
        "facilitator", "council")
    assert facilitator_required(view).required_roles == ("facilitator",)
    assert council_required(view).required_roles == ("council",)
    assert admin_required(view).required_roles == ("admin",)
    assert role_required("council")(view).__name__ == "view"
