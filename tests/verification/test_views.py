"""Counter verification, postal codes, the national-ID interface and eligibility over HTTP."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping

import pytest
import sqlalchemy as sa

from deliberation.models import (
    AuditEntry,
    Participant,
    PostalCode,
    User,
    VerificationRecord,
    Vote,
)
from deliberation.services import verification
from deliberation.services.national_id import NationalIdError, NationalIdResult
from tests.factories import make_proposal, make_user
from tests.races import committed_first

EN = {"Accept-Language": "en"}
JA = {"Accept-Language": "ja"}


def test_counter_verification_by_staff(client, login_as, db) -> None:
    login_as("council")
    citizen = make_user(email="hanako@example.org", display_name="Hanako")
    page = client.get("/verify/?q=hanako", headers=EN).get_data(as_text=True)
    assert "Hanako" in page and "Not verified" in page
    response = client.post(f"/verify/users/{citizen.id}/counter",
                           data={"document": "my_number_card", "number": "ＡＢ１２-３４５６"},
                           headers=EN)
    assert response.status_code == 303
    page = client.get(f"/verify/users/{citizen.id}", headers=EN).get_data(as_text=True)
    assert "Verified resident" in page and "My Number card" in page
    db.session.refresh(citizen)
    assert citizen.is_verified


def test_one_document_verifies_one_account(client, login_as, db) -> None:
    """Staff saw the same document for a second account: one person would count twice in a
    round for verified residents. Only a keyed hash of the number is kept, not in the audit
    log, and the page does not say which account holds it."""
    login_as("council")
    first, second = make_user(), make_user()
    form = {"document": "driving_licence", "number": "123456789012"}
    assert client.post(f"/verify/users/{first.id}/counter", data=form).status_code == 303
    for headers, words in ((EN, "already verifies another account"), (JA, "別のアカウント")):
        response = client.post(f"/verify/users/{second.id}/counter", headers=headers,
                               data={**form, "number": "1234-5678-9012"})
        assert response.status_code == 409 and words in response.text
        assert first.email not in response.text
    db.session.refresh(second)
    assert not second.is_verified
    stored = str(db.session.scalars(sa.select(VerificationRecord.details)).all()) + str(
        db.session.scalars(sa.select(User.verified_person)).all())
    logged = str(db.session.scalars(sa.select(AuditEntry.details)).all())
    assert "123456789012" not in stored + logged and "person" not in logged
    form["number"] = "123456789013"  # the same licence, reissued once after a loss
    assert client.post(f"/verify/users/{second.id}/counter", data=form).status_code == 409
    form["number"] = "223456789012"  # another person's licence
    assert client.post(f"/verify/users/{second.id}/counter", data=form).status_code == 303


def test_an_account_verified_twice_at_once_is_verified_once(client, login_as, db) -> None:
    """Two members of staff (or a double click) verify the same account: the other request
    verified it between this one's check and its write."""
    login_as("council")
    citizen = make_user(email="hanako@example.org")
    other = sa.update(User).where(User.id == citizen.id).values(
        verification_level="resident_verified")
    with committed_first(User, lambda: other) as raced:
        response = client.post(f"/verify/users/{citizen.id}/counter", headers=EN,
                               data={"document": "my_number_card", "number": "A1234"},
                               follow_redirects=True)
    assert raced
    assert "This account is already verified as a resident." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VerificationRecord)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "account.verified")) == 0


def test_a_verification_revoked_twice_at_once_is_revoked_once(client, login_as, db) -> None:
    """Two members of staff (or a double click) take the same verification back: the other
    request revoked it between this one's check and its write."""
    login_as("council")
    citizen = make_user(email="hanako@example.org", verification_level="resident_verified")
    other = sa.update(User).where(User.id == citizen.id).values(verification_level="email")
    with committed_first(User, lambda: other) as raced:
        response = client.post(f"/verify/users/{citizen.id}/revoke", headers=EN,
                               data={"reason": "moved away"}, follow_redirects=True)
    assert raced
    assert "This account is not verified as a resident." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VerificationRecord)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "account.verification_revoked")) == 0


def test_a_new_secret_key_keeps_one_document_per_account(app, client, login_as, db,
                                                          monkeypatch) -> None:
    """Rotating SECRET_KEY forgot which documents verified which accounts; with
    VERIFICATION_KEY set, the person hashes are keyed with it and outlive the rotation."""
    monkeypatch.setitem(app.config, "VERIFICATION_KEY", "verification-key-of-the-town")
    login_as("council")
    first, second = make_user(), make_user()
    form = {"document": "driving_licence", "number": "123456789012"}
    assert client.post(f"/verify/users/{first.id}/counter", data=form).status_code == 303
    monkeypatch.setitem(app.config, "SECRET_KEY", "a-new-secret-key-after-rotation")
    login_as("council")
    assert client.post(f"/verify/users/{second.id}/counter", data=form).status_code == 409


@pytest.mark.parametrize(("data", "words"), [
    ({"document": "A123", "number": "123456789012"}, "選んで"),
    ({"document": "driving_licence"}, "番号を入力"),
    ({"document": "driving_licence", "number": "12345"}, "番号を入力"),
    ({"document": "residence_card", "number": "123456789012"}, "番号を入力"),
    ({"document": "my_number_card", "number": "1234 5678 9012"}, "マイナンバー"),  # the back
    ({"document": "other", "number": "1234-5678-9018"}, "マイナンバー"),  # its check digit
])
def test_counter_verification_refuses_bad_input(client, login_as, db, data, words) -> None:
    login_as("council")
    citizen = make_user()
    response = client.post(f"/verify/users/{citizen.id}/counter", data=data, headers=JA)
    assert response.status_code == 400 and words in response.text
    assert client.post("/verify/users/999999/counter", data={"document": "other"}).status_code \
        == 404
    db.session.refresh(citizen)
    assert not citizen.is_verified
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VerificationRecord)) == 0


def test_citizens_and_facilitators_cannot_verify(client, login_as, db) -> None:
    citizen = make_user()
    for role in ("citizen", "facilitator"):
        login_as(role)
        assert client.post(f"/verify/users/{citizen.id}/counter",
                           data={"document": "other"}).status_code == 403
        assert client.post("/verify/postal-codes",
                           data={"count": 1, "valid_days": 1, "batch": "x"}).status_code == 403
    db.session.refresh(citizen)
    assert not citizen.is_verified


def test_postal_codes_download_and_redeem(client, login_as, db) -> None:
    login_as("council")
    response = client.post("/verify/postal-codes", headers=EN,
                           data={"count": 2, "valid_days": 30, "batch": "Letter 1"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    code = rows[1].split(",")[0]
    page = client.get("/verify/postal-codes", headers=EN).get_data(as_text=True)
    assert "Letter 1" in page and code not in page  # the list shows counts, never codes
    assert "Waiting for confirmation" in page and 'name="letters"' not in page  # not by me
    response = client.post("/verify/postal-codes/posted", headers=JA,
                           data={"batch": "Letter 1", "letters": "2"})
    assert response.status_code == 409 and "別の職員" in response.text
    login_as("admin")  # a colleague confirms that the letters were posted
    for letters, words in (("3", "has 2 codes"), ("", "whole numbers")):
        response = client.post("/verify/postal-codes/posted", headers=EN,
                               data={"batch": "Letter 1", "letters": letters})
        assert response.status_code == 400 and words in response.text
    response = client.post("/verify/postal-codes/posted", headers=JA,
                           data={"batch": "Letter 1", "letters": "3"})
    assert response.status_code == 400 and "コードは2件です" in response.text
    assert client.post("/verify/postal-codes/posted", data={"batch": "Letter 1", "letters": "2"},
                       headers=EN).status_code == 303
    assert "Waiting for confirmation" not in client.get("/verify/postal-codes", headers=EN).text

    resident = login_as("citizen")
    response = client.post("/account/verification/code", data={"code": "WRONG-CODE-0000"},
                           headers=JA)
    assert response.status_code == 400
    assert "コード" in response.get_data(as_text=True)
    response = client.post("/account/verification/code", data={"code": code}, headers=EN)
    assert response.status_code == 303
    db.session.refresh(resident)
    assert resident.is_verified
    page = client.get("/account/verification", headers=EN).get_data(as_text=True)
    assert "Verified resident" in page and "Code sent by post" in page


def test_mail_merge_csv_reads_back_in_japanese(client, login_as, db) -> None:
    login_as("council")
    response = client.post("/verify/postal-codes",
                           data={"count": 2, "valid_days": 10, "batch": "=1+1 2026年12月"})
    assert response.headers.getlist("Content-Type") == ["text/csv; charset=utf-8"]
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))
    assert list(rows[0]) == ["確認コード", "有効期限（日本時間）", "発行分"]
    assert len(rows) == 2 and len({r["確認コード"] for r in rows}) == 2
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", rows[0]["有効期限（日本時間）"])
    assert rows[0]["発行分"] == "'=1+1 2026年12月"  # a spreadsheet shows it as text
    english = client.post("/verify/postal-codes", headers=EN,
                          data={"count": 1, "valid_days": 10, "batch": "b2"})
    assert english.data.decode("utf-8-sig").startswith("Verification code,Valid until")


def test_bad_postal_code_batch_is_refused_in_japanese(client, login_as, db) -> None:
    login_as("council")
    response = client.post("/verify/postal-codes", headers=JA,
                           data={"count": 99999, "valid_days": 30, "batch": "b"})
    assert response.status_code == 400
    assert "5000" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PostalCode)) == 0


# --------------------------------------------------------------------------- eligibility


def test_verified_round_end_to_end(client, login_as, make_round, db) -> None:
    r = make_round(title="Library hours", phase="voting", eligibility="verified")
    proposal = make_proposal(r, "Open on Sundays")
    citizen = login_as("citizen")
    home = client.get("/", headers=EN).get_data(as_text=True)
    assert f"/rounds/{r.slug}/vote" not in home  # no vote button for someone who cannot vote
    assert "/account/verification" in home
    page = client.get(f"/rounds/{r.slug}/vote", headers=JA)
    assert page.status_code == 403
    text = page.get_data(as_text=True)
    assert "/account/verification" in text and "<h1>" in text
    response = client.post(f"/rounds/{r.slug}/vote",
                           data={"proposal_id": proposal.id, "value": "1"})
    assert response.status_code in (303, 403)  # refused: back to the explanation
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Participant)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 0

    verification.verify_at_counter(citizen, actor=make_user("council"), document="other",
                                   number="C-0001", secret="s")
    home = client.get("/", headers=EN).get_data(as_text=True)
    assert f"/rounds/{r.slug}/vote" in home
    response = client.post(f"/rounds/{r.slug}/vote",
                           data={"proposal_id": proposal.id, "value": "1"})
    assert response.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 1


def test_residents_round_accepts_verified_e_citizens(client, login_as, make_round, db) -> None:
    r = make_round(phase="voting", eligibility="residents")
    visitor = login_as("citizen", kind="e_citizen")
    assert client.get(f"/rounds/{r.slug}/vote").status_code == 403
    verification.verify_at_counter(visitor, actor=make_user("council"), document="other",
                                   number="V-0001", secret="s")
    assert client.get(f"/rounds/{r.slug}/vote").status_code == 200


@pytest.mark.parametrize("eligibility", ["residents", "verified"])
def test_a_round_for_residents_tells_an_e_citizen_where_they_can_take_part(
        client, login_as, make_round, db, eligibility) -> None:
    r = make_round(title="Library hours", phase="voting", eligibility=eligibility)
    make_proposal(r, "Open on Sundays")
    login_as("citizen", kind="e_citizen")
    page = client.get(f"/rounds/{r.slug}/vote", headers=JA).get_data(as_text=True)
    assert "このラウンドは町の住民のためのものです" in page
    assert "だれでも参加できるラウンドには、関係人口として参加できます" in page
    assert "町に住んでいる方は" in page and "/account/verification" in page
    assert "このラウンドにはまだ参加できません" in page
    english = client.get(f"/rounds/{r.slug}/vote", headers=EN).get_data(as_text=True)
    assert "you can take part as an e-citizen in the rounds open to everyone" in english
    # the round's card on the home page says the same, not only "get verified"
    home = client.get("/", headers=JA).get_data(as_text=True)
    assert "町に住んでいる方は" in home and "/account/verification" in home


# --------------------------------------------------------------------------- national ID


class AppDouble:
    """Test double of a national-ID verifier: the "app" answers through the return URL."""

    name = "テスト認証アプリ"

    def start(self, state: str, return_url: str) -> str:
        return f"https://id.example.test/auth?state={state}&return={return_url}"

    def complete(self, state: str, params: Mapping[str, str]) -> NationalIdResult:
        if params.get("answer") == "broken":
            raise NationalIdError("signature")
        return NationalIdResult(resident=params.get("answer") == "resident",
                                provider="test-app", subject=params.get("person"))


@pytest.fixture()
def national_id(app):
    app.config["NATIONAL_ID_VERIFIER"] = "tests.verification.test_views:AppDouble"
    yield
    app.config["NATIONAL_ID_VERIFIER"] = None


def _start(client) -> str:
    response = client.post("/account/verification/national-id")
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("https://id.example.test/auth?state=")
    return location.split("state=")[1].split("&")[0]


def test_national_id_app_verifies_a_resident(client, login_as, national_id, db) -> None:
    user = login_as()
    assert "テスト認証アプリ" in client.get("/account/verification").get_data(as_text=True)
    state = _start(client)
    response = client.get(f"/account/verification/national-id/return?state={state}"
                          "&answer=resident&person=card-0&my_number=123456789012")
    assert response.status_code == 303
    db.session.refresh(user)
    assert user.is_verified
    record = verification.history(user)[0]
    assert record.method == "national_id" and record.details["provider"] == "test-app"
    assert "123456789012" not in str(record.details) and "card-0" not in str(record.details)


def test_national_id_answer_without_the_person_is_refused(client, login_as, national_id,
                                                          db) -> None:
    """Without the provider's pseudonym, one card verified any number of accounts."""
    user = login_as()
    for headers, words, person in ((EN, "did not say who you are", ""),
                                   (JA, "どなたか", "&person=%20%20")):
        response = client.get(f"/account/verification/national-id/return?state="
                              f"{_start(client)}&answer=resident{person}", headers=headers)
        assert words in client.get(response.headers["Location"], headers=headers).text
    db.session.refresh(user)
    assert not user.is_verified
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VerificationRecord)) == 0


def test_one_national_id_on_two_accounts_at_once_verifies_one(client, login_as, national_id,
                                                              db) -> None:
    """The same card on two accounts at the same moment: the other request verified its
    account between this one's check and its write; the database refuses this one."""
    other = make_user(email="first@example.org")
    person = verification.person_key(client.application.config["SECRET_KEY"], "test-app",
                                      "card-1")
    first = sa.update(User).where(User.id == other.id).values(
        verification_level="resident_verified", verified_person=person)
    second = login_as()
    state = _start(client)
    with committed_first(User, lambda: first) as raced:
        response = client.get(f"/account/verification/national-id/return?state={state}"
                              "&answer=resident&person=card-1", headers=EN)
    assert raced
    assert "another account" in client.get(response.headers["Location"], headers=EN).text
    db.session.refresh(second)
    assert not second.is_verified
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VerificationRecord)) == 0


@pytest.mark.parametrize("answer", ["elsewhere", "broken"])
def test_national_id_refusals_store_nothing(client, login_as, national_id, db,
                                            answer: str) -> None:
    user = login_as()
    state = _start(client)
    response = client.get(
        f"/account/verification/national-id/return?state={state}&answer={answer}")
    assert response.status_code == 303
    db.session.refresh(user)
    assert not user.is_verified


def test_national_id_state_must_match(client, login_as, national_id, db) -> None:
    user = login_as()
    _start(client)
    client.get("/account/verification/national-id/return?state=forged&answer=resident")
    db.session.refresh(user)
    assert not user.is_verified


def test_one_national_id_verifies_one_account(client, login_as, national_id, db) -> None:
    """One My Number card made any number of accounts verified residents (each counting in
    a round for verified residents and, at once, towards hiding a proposal); the app's
    pseudonym of the person (kept only as a keyed hash) verifies one account at a time."""
    first = login_as()
    client.get(f"/account/verification/national-id/return?state={_start(client)}"
               "&answer=resident&person=card-1")
    db.session.refresh(first)
    assert first.is_verified and "card-1" not in str(verification.history(first)[0].details)
    client.post("/auth/logout")
    second = login_as()
    for headers, words in ((EN, "another account"), (JA, "別のアカウント")):
        response = client.get(f"/account/verification/national-id/return?state="
                              f"{_start(client)}&answer=resident&person=card-1",
                              headers=headers)
        assert words in client.get(response.headers["Location"], headers=headers).text
    db.session.refresh(second)
    assert not second.is_verified
    client.get(f"/account/verification/national-id/return?state={_start(client)}"
               "&answer=resident&person=card-2")  # someone else's card
    db.session.refresh(second)
    assert second.is_verified
    logged = db.session.scalars(sa.select(AuditEntry.details).where(
        AuditEntry.action == "account.verified")).all()
    assert len(logged) == 2 and not any("person" in details for details in logged)


def test_national_id_is_not_offered_without_a_verifier(client, login_as, db) -> None:
    login_as()
    assert "national-id" not in client.get("/account/verification").get_data(as_text=True)
    assert client.post("/account/verification/national-id").status_code == 404
