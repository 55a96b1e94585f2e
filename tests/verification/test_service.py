"""Verification levels, counter verification and postal codes (service level)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from deliberation.errors import Conflict, DomainError
from deliberation.models import AuditEntry, PostalCode, VerificationRecord, utcnow
from deliberation.services import verification
from tests.factories import PASSWORD, make_user


def test_levels_and_counter_verification_are_recorded(db) -> None:
    staff = make_user("council")
    citizen = make_user()
    assert verification.level_of(citizen) == "unverified"
    verification.verify_at_counter(citizen, actor=staff, document="driving_licence",
                                   number="1234 5678 9012", secret="s")
    assert verification.level_of(citizen) == "resident_verified"
    record = db.session.scalar(sa.select(VerificationRecord))
    assert (record.user_id, record.method, record.verified_by_id) == (
        citizen.id, "counter", staff.id)
    assert record.details["document"] == "driving_licence" and set(record.details) == {
        "document", "person"}
    entry = db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.action == "account.verified"))
    assert entry.actor_id == staff.id and entry.target_id == citizen.id
    assert entry.details == {"method": "counter", "document": "driving_licence"}
    with pytest.raises(Conflict):
        verification.verify_at_counter(citizen, actor=staff, document="driving_licence",
                                       number="123456789012", secret="s")


def test_unknown_document_is_refused_and_stores_nothing(db) -> None:
    staff, citizen = make_user("council"), make_user()
    with pytest.raises(DomainError):
        verification.verify_at_counter(citizen, actor=staff, document="123456789012",
                                       number="123456789012", secret="s")
    db.session.refresh(citizen)
    assert not citizen.is_verified
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VerificationRecord)) == 0


def test_revoke_needs_a_reason_and_is_recorded(db) -> None:
    staff, citizen = make_user("council"), make_user()
    verification.verify_at_counter(citizen, actor=staff, document="residence_card",
                                   number="AB12345678CD", secret="s")
    with pytest.raises(DomainError):
        verification.revoke(citizen, actor=staff, reason="  ")
    verification.revoke(citizen, actor=staff, reason="moved away")
    assert verification.level_of(citizen) == "unverified"
    assert [r.level for r in verification.history(citizen)] == ["resident_verified", "unverified"]


def test_postal_codes_are_hashed_single_use_and_expire(db) -> None:
    staff = make_user("council")
    generated = verification.generate_postal_codes(3, valid_days=30, batch="2026-12 north",
                                                   actor=staff)
    assert len(set(generated.codes)) == 3
    stored = set(db.session.scalars(sa.select(PostalCode.code_hash)))
    assert not stored & set(generated.codes)  # only hashes at rest
    assert stored == {verification.hash_code(c) for c in generated.codes}
    first, second, third = generated.codes
    alice = make_user()
    with pytest.raises(Conflict):  # no letter confirmed as posted yet
        verification.redeem_postal_code(alice, first)
    verification.confirm_posted("2026-12 north", 3, actor=make_user("admin"))

    typed = verification.format_code(first).lower().replace("-", " - ")
    verification.redeem_postal_code(alice, typed)  # lower case, spaces, dashes forgiven
    assert verification.level_of(alice) == "resident_verified"
    record = verification.history(alice)[0]
    assert record.method == "postal_code" and record.details["batch"] == "2026-12 north"
    assert record.verified_by_id == staff.id  # who held the code before the resident

    bob = make_user()
    with pytest.raises(DomainError):  # one use
        verification.redeem_postal_code(bob, first)
    # full-width characters (typed on a Japanese keyboard) are accepted
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in second)
    verification.redeem_postal_code(bob, full_width)
    assert bob.is_verified

    carol = make_user()
    db.session.execute(sa.update(PostalCode).where(
        PostalCode.code_hash == verification.hash_code(third)).values(
        expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    with pytest.raises(DomainError):
        verification.redeem_postal_code(carol, third)
    db.session.refresh(carol)
    assert not carol.is_verified
    assert db.session.scalar(sa.select(PostalCode.used_at).where(
        PostalCode.code_hash == verification.hash_code(third))) is None


@pytest.mark.parametrize("typed", ["", "ABCD", "0000-0000-0000", "x" * 40, None, 12])
def test_bad_codes_are_refused(db, typed) -> None:
    citizen = make_user()
    with pytest.raises(DomainError):
        verification.redeem_postal_code(citizen, typed)
    assert not citizen.is_verified


@pytest.mark.parametrize(("count", "days", "batch"), [
    (0, 30, "b"), (5001, 30, "b"), ("many", 30, "b"), (1, 0, "b"), (1, 366, "b"), (1, 30, " "),
    (1, 30, "x" * 81),
])
def test_bad_batches_store_nothing(db, count, days, batch) -> None:
    staff = make_user("council")
    with pytest.raises(DomainError):
        verification.generate_postal_codes(count, valid_days=days, batch=batch, actor=staff)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PostalCode)) == 0


def test_search_escapes_wildcards(db) -> None:
    make_user(email="hanako@example.org", display_name="Hanako")
    make_user(email="taro@example.org", display_name="Taro")
    assert [u.display_name for u in verification.search_accounts("HANA")] == ["Hanako"]
    assert verification.search_accounts("%") == []
    assert verification.search_accounts("") == []


def test_a_revoked_or_deleted_account_frees_the_person_for_another(db) -> None:
    from deliberation.services import privacy
    from deliberation.services.national_id import NationalIdResult

    staff, first, second, third = (make_user("council"), make_user(), make_user(),
                                   make_user())
    card = NationalIdResult(resident=True, provider="app", subject="card-1")
    verification.verify_with_national_id(first, card, secret="s")
    with pytest.raises(Conflict):
        verification.verify_with_national_id(second, card, secret="s")
    verification.revoke(first, actor=staff, reason="a second account of the same person")
    verification.verify_with_national_id(third, card, secret="s")
    privacy.delete_account(third, PASSWORD)
    # the deleted account's records keep how and when, no longer whose card: the person's
    # hash would tie the next account to this one, and so to its votes
    [record] = verification.history(third)
    assert record.method == "national_id" and "person" not in record.details
    verification.verify_with_national_id(second, card, secret="s")
    assert second.is_verified


def test_one_member_of_staff_cannot_make_postal_codes_work_alone(db) -> None:
    """Whoever generates a batch holds every code: posting nothing and entering the codes
    on accounts of their making verified accounts that no resident holds. Another member
    of staff confirms the posting and counts the letters first."""
    insider, colleague = make_user("council"), make_user("council")
    codes = verification.generate_postal_codes(2, valid_days=30, batch="Letter 1",
                                               actor=insider).codes
    with pytest.raises(DomainError, match="exists already"):
        verification.generate_postal_codes(1, valid_days=30, batch="Letter 1", actor=insider)
    puppet = make_user()
    with pytest.raises(Conflict, match="not yet confirmed"):
        verification.redeem_postal_code(puppet, codes[0])
    with pytest.raises(Conflict, match="another member of staff"):
        verification.confirm_posted("Letter 1", 2, actor=insider)
    with pytest.raises(DomainError, match="has 2 codes"):
        verification.confirm_posted("Letter 1", 3, actor=colleague)
    with pytest.raises(DomainError, match="No batch"):
        verification.confirm_posted("Letter 2", 2, actor=colleague)
    db.session.refresh(puppet)
    assert not puppet.is_verified
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PostalCode).where(
        PostalCode.posted_at.is_not(None))) == 0
    assert verification.confirm_posted("Letter 1", "2", actor=colleague) == 2
    verification.redeem_postal_code(puppet, codes[0])
    assert puppet.is_verified
    entry = db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.action == "verification.postal_codes_posted"))
    assert entry.actor_id == colleague.id and entry.details["count"] == 2


@pytest.mark.parametrize("leave", ["delete", "revoke"])
@pytest.mark.parametrize("switched", [None, "before leaving", "after leaving"])
def test_a_person_freed_for_another_account_does_not_vote_twice_in_a_round(
        app, client, db, leave, switched) -> None:
    """Deleting a verified account (or having its verification revoked) frees the person
    to verify another, but the first account's votes still count: in a round for verified
    residents the second account must not vote again, or one card votes any number of
    times (verify, vote, delete, again). Also when the round was open to everyone when
    the first account voted and is for verified residents only since, whether it changed
    before or after the first account left."""
    from deliberation.models import Participant, Vote
    from deliberation.services import facilitation, privacy
    from deliberation.services.national_id import NationalIdResult
    from tests.factories import log_in, make_proposal, make_round

    round_ = make_round(phase="voting", eligibility="everyone" if switched else "verified")
    proposal = make_proposal(round_, "Bus to the hospital")
    card = NationalIdResult(resident=True, provider="app", subject="card-1")
    first, second = make_user(), make_user()
    verification.verify_with_national_id(first, card, secret="s")
    vote = {"proposal_id": proposal.id, "value": "1"}
    assert log_in(app.test_client(), first).post(
        f"/rounds/{round_.slug}/vote", data=vote).status_code == 303

    def verified_only() -> None:
        facilitation.update_round(round_, actor=make_user("facilitator"), title=round_.title,
                                  eligibility="verified")

    if switched == "before leaving":
        verified_only()
    if leave == "delete":
        privacy.delete_account(first, PASSWORD)
    else:
        verification.revoke(first, actor=make_user("council"), reason="lost access")
    if switched == "after leaving":
        verified_only()
    verification.verify_with_national_id(second, card, secret="s")
    assert second.is_verified  # freed for another account ...

    response = log_in(client, second).post(f"/rounds/{round_.slug}/vote", data=vote,
                                           headers={"Accept-Language": "ja"},
                                           follow_redirects=True)
    # ... but not for a second vote in this round
    assert "別のアカウントで" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Participant)) == 1
    # another round, where the first account did not vote, is open to the second
    other = make_round(phase="voting", eligibility="verified")
    vote = {"proposal_id": make_proposal(other).id, "value": "1"}
    assert client.post(f"/rounds/{other.slug}/vote", data=vote).status_code == 303
