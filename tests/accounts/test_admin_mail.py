"""The admin's outbox page: failed and waiting mails, links masked, retry; admins only."""

from __future__ import annotations

import sqlalchemy as sa

from deliberation.database import db as _db
from deliberation.mail.compose import Mail
from deliberation.models import AuditEntry, OutgoingMail, utcnow
from deliberation.services import mail as outbox
from tests.security.conftest import client_for, quick_user

JA = {"Accept-Language": "ja"}
SENDER = outbox.Sender("hiroba@localhost", "ひろば")
TOKEN = "eyJ1IjoxMiwiZSI6ImhhbmFrb0BleGFtcGxlLm9yZyJ9.Z1x2Yw.secret-signature"


def _queue(to: str, purpose: str, text: str, *, failed: bool = False) -> OutgoingMail:
    row = outbox.queue(Mail(to=to, subject="パスワードの再設定", text=text,
                            unsubscribe_url=f"https://hiroba.example/account/unsubscribe/{TOKEN}"),
                       purpose=purpose, sender=SENDER)
    if failed:
        row.status, row.attempts, row.last_error = "failed", 12, "451 Try again later"
    _db.session.commit()
    return row


def test_admin_sees_failed_and_waiting_mails_with_links_masked(app, db) -> None:
    failed = _queue("hanako@example.org", "reset_password",
                    f"このリンクを開いてください:\nhttps://hiroba.example/auth/reset/{TOKEN}\n",
                    failed=True)
    _queue("taro@example.org", "confirm_email",
           f"確認: https://hiroba.example/auth/confirm/{TOKEN}?next=/x")
    client = client_for(app, quick_user("admin"))
    page = client.get("/admin/mail", headers=JA)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "hanako@example.org" in html and "taro@example.org" in html
    assert "パスワードの再設定" in html and "送信できず" in html and "451 Try again later" in html
    assert "https://hiroba.example/auth/reset/…" in html
    assert "https://hiroba.example/auth/confirm/…" in html
    assert TOKEN not in html and "secret-signature" not in html
    assert html.index("hanako@example.org") < html.index("taro@example.org")  # failed first
    only_failed = client.get("/admin/mail?status=failed", headers=JA).get_data(as_text=True)
    assert "hanako@example.org" in only_failed and "taro@example.org" not in only_failed
    # Bad filters and pages are ignored, never a 500.
    for query in ("?status=%3Cscript%3E", "?page=abc", "?page=99999999999999999999",
                  "?status=failed&page=-3"):
        assert client.get("/admin/mail" + query, headers=JA).status_code == 200

    response = client.post(f"/admin/mail/{failed.id}/retry", headers=JA)
    assert response.status_code == 303
    _db.session.refresh(failed)
    assert failed.status == "pending" and failed.attempts == 0
    assert failed.next_attempt_at <= utcnow()
    entry = _db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "mail.retry"))
    assert entry.target_id == failed.id and entry.details["status_before"] == "failed"
    assert "送信しなおします" in client.get("/admin/mail", headers=JA).get_data(as_text=True)


def test_retry_every_failed_mail_and_a_mail_that_is_gone(app, db) -> None:
    rows = [_queue(f"p{n}@example.org", "council_answer", "t", failed=True) for n in range(3)]
    waiting = _queue("w@example.org", "council_answer", "t")
    client = client_for(app, quick_user("admin"))
    assert client.post("/admin/mail/retry-failed", headers=JA).status_code == 303
    statuses = _db.session.scalars(sa.select(OutgoingMail.status)).all()
    assert statuses == ["pending"] * 4
    entry = _db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.action == "mail.retry_failed"))
    assert entry.details["count"] == 3
    _db.session.delete(rows[0])
    _db.session.commit()
    gone = client.post(f"/admin/mail/{rows[0].id}/retry", headers=JA, follow_redirects=True)
    assert gone.status_code == 200
    assert "このメールはもう送信待ちの一覧にありません" in gone.get_data(as_text=True)
    assert client.post("/admin/mail/99999999999999999999/retry").status_code == 404
    _db.session.refresh(waiting)
    assert waiting.status == "pending"


def test_only_admins_see_or_retry_the_outbox(app, db) -> None:
    row = _queue("hanako@example.org", "reset_password", "t", failed=True)
    for role in ("citizen", "facilitator", "council"):
        client = client_for(app, quick_user(role))
        assert client.get("/admin/mail").status_code == 403
        assert client.post(f"/admin/mail/{row.id}/retry").status_code == 403
        assert client.post("/admin/mail/retry-failed").status_code == 403
    anonymous = client_for(app, None).get("/admin/mail")
    assert anonymous.status_code in (302, 303) and "/auth/login" in anonymous.headers["Location"]
    _db.session.refresh(row)
    assert row.status == "failed"
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0
