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
                           data={"document": "my_number_card"}, headers=EN)
    assert response.status_code == 303 and _verified(db, colleague.id)
