"""Staff verify other people: a council member or admin cannot make their own account a
verified resident at the counter (nobody saw their document), as nobody who typed in paper
votes decides on them. Another member of staff can."""

from __future__ import annotations

import sqlalchemy as sa

from deliberation.models import User, VerificationRecord

EN = {"Accept-Language": "en"}
JA = {"Accept-Language": "ja"}


def _verified(db, user_id: int) -> bool:
    db.session.expire_all()
    return db.session.get(User, user_id).is_verified


def test_staff_cannot_verify_their_own_account(client, login_as, db) -> None:
    for role in ("council", "admin"):
        me = login_as(role)
        response = client.post(f"/verify/users/{me.id}/counter",
                               data={"document": "my_number_card"}, headers=EN)
        assert response.status_code == 303
        page = client.get(response.headers["Location"], headers=EN).text
        assert "another member of staff" in page
        assert not _verified(db, me.id)
        response = client.post(f"/verify/users/{me.id}/counter",
                               data={"document": "my_number_card"}, headers=JA)
        assert "別の職員" in client.get(response.headers["Location"], headers=JA).text
        client.post("/auth/logout")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VerificationRecord)) == 0


def test_another_member_of_staff_can_verify_them(client, login_as, db) -> None:
    colleague = login_as("council")
    client.post("/auth/logout")
    login_as("council")
    response = client.post(f"/verify/users/{colleague.id}/counter",
                           data={"document": "my_number_card", "number": "A1234"}, headers=EN)
    assert response.status_code == 303 and _verified(db, colleague.id)


def test_staff_cannot_verify_themselves_with_a_code_they_generated(client, login_as, db) -> None:
    """The code in the letter stands for an address the town checked; one the staff member
    printed out themselves checked nothing. The code stays unused for its letter."""
    me = login_as("council")
    sheet = client.post("/verify/postal-codes",
                        data={"count": 1, "valid_days": 30, "batch": "Letter 1"}).get_data(
        as_text=True).lstrip("\ufeff").splitlines()
    code = sheet[1].split(",")[0]
    for headers, words in ((EN, "another member of staff"), (JA, "別の職員")):
        response = client.post("/account/verification/code", data={"code": code},
                               headers=headers)
        assert response.status_code == 409 and words in response.text
    assert not _verified(db, me.id)
    client.post("/auth/logout")
    login_as("admin")
    client.post("/verify/postal-codes/posted", data={"batch": "Letter 1", "letters": "1"})
    client.post("/auth/logout")
    resident = login_as("citizen")
    assert client.post("/account/verification/code", data={"code": code}).status_code == 303
    assert _verified(db, resident.id)
