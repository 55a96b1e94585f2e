"""One mailbox, one account: the same address typed with full-width letters (a phone's
Japanese keyboard), a Japanese domain or its ASCII (punycode) form is the same address for
registration, login, reset, the per-address limits and the mails, and the sender survives
an address no mail server can take."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from deliberation.models import OutgoingMail, User, utcnow
from deliberation.services import mail as outbox
from tests import factories
from tests.accounts.test_flows import EN, _path, register

PASSWORD = factories.PASSWORD


def _emails(db) -> list[str]:
    db.session.expire_all()
    return sorted(db.session.scalars(sa.select(User.email)))


def test_full_width_and_japanese_domain_variants_make_no_second_account(client, db, mailbox
                                                                        ) -> None:
    factories.make_user(email="hanako@example.org")
    for variant in ("hanako@ｅｘａｍｐｌｅ.org", "ＨＡＮＡＫＯ＠ｅｘａｍｐｌｅ．ｏｒｇ",
                    "hanako@example。org"):
        response = register(client, variant)
        assert response.status_code == 303, variant
    assert _emails(db) == ["hanako@example.org"]
    messages = mailbox.deliver()
    # the owner hears of each try (as for any taken address), at the one real address
    assert {m["To"] for m in messages} == {"hanako@example.org"}
    assert all("/auth/confirm/" not in mailbox.text(m) for m in messages)


def test_a_japanese_domain_is_one_address_in_either_form_and_its_mail_is_sent(client, db,
                                                                               mailbox) -> None:
    assert register(client, "taro@例え.jp").status_code == 303
    assert register(client, "taro@xn--r8jz45g.jp").status_code == 303
    assert _emails(db) == ["taro@xn--r8jz45g.jp"]
    messages = mailbox.deliver()
    assert len(messages) == 2 and {m["To"] for m in messages} == {"taro@xn--r8jz45g.jp"}
    assert mailbox.collector.messages[-1][1] == ["taro@xn--r8jz45g.jp"]
    assert db.session.scalar(sa.select(sa.func.count(OutgoingMail.id))) == 0


def test_an_address_with_japanese_before_the_at_sign_is_refused_in_words(client, db) -> None:
    response = register(client, "太郎@example.jp")
    assert response.status_code == 400
    assert "before the @" in response.text
    assert _emails(db) == []
    page = client.post("/auth/register", data={"email": "太郎@example.jp"})
    assert "＠より前" in page.text  # Japanese by default


def test_login_and_reset_find_the_account_from_a_full_width_address(client, db, mailbox
                                                                     ) -> None:
    factories.make_user(email="hanako@example.org")
    response = client.post("/auth/login", data={"email": "ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｏｒｇ",
                                               "password": PASSWORD}, headers=EN)
    assert response.status_code == 303
    client.post("/auth/logout")
    assert client.post("/auth/reset", data={"email": "ＨＡＮＡＫＯ@example.org"}).status_code == 303
    [message] = mailbox.deliver()
    assert message["To"] == "hanako@example.org" and "/auth/reset/" in mailbox.text(message)


def test_variants_of_an_address_share_its_mail_limit(limited_app: Flask) -> None:
    limited_app.config.update(MAIL_REQUEST_RATE_LIMIT="2 per hour",
                              REGISTER_RATE_LIMIT="100 per minute")
    client = limited_app.test_client()
    answers = [client.post("/auth/reset", data={"email": email}).status_code
               for email in ("hanako@example.org", "ｈａｎａｋｏ@example.org",
                             "hanako@ｅｘａｍｐｌｅ.org", "ＨＡＮＡＫＯ＠example.org")]
    assert answers == [303, 303, 429, 429]


def test_variants_of_an_address_share_its_login_back_off(limited_app: Flask) -> None:
    limited_app.config.update(LOGIN_RATE_LIMIT="100 per minute", LOGIN_FREE_FAILURES=100,
                              LOGIN_ACCOUNT_FREE_FAILURES=2)
    with limited_app.app_context():
        factories.make_user(email="hanako@example.org")
    variants = ["hanako@example.org", "ｈanako@example.org", "hａnako@example.org",
                "haｎako@example.org"]
    statuses = []
    for n, email in enumerate(variants):
        client = limited_app.test_client()
        statuses.append(client.post("/auth/login", data={"email": email, "password": "wrong"},
                                    environ_base={"REMOTE_ADDR": f"192.0.2.{n}"}).status_code)
    assert statuses[:2] == [400, 400] and statuses[2:] == [429, 429]


def test_a_mail_no_server_can_take_fails_without_stopping_the_others(app: Flask, db, mailbox
                                                                     ) -> None:
    sender = outbox.Sender("hiroba@example.org", "Hiroba")
    for to in ("太郎@example.jp", "hanako@example.org"):  # queued before this rule existed
        outbox.queue(outbox.Mail(to=to, subject="s", text="t"), purpose="test", sender=sender)
    db.session.commit()
    [message] = mailbox.deliver()
    assert message["To"] == "hanako@example.org"
    db.session.expire_all()
    [row] = db.session.scalars(sa.select(OutgoingMail))
    assert row.recipient == "太郎@example.jp" and row.status == "pending" and row.last_error
    assert row.next_attempt_at > utcnow()


def test_sub_addresses_and_gmail_dots_share_the_inboxs_mail_limit(limited_app: Flask) -> None:
    """hanako+1@, hanako+2@ ... and, at Gmail, h.anako@ and ha.nako@ all land in one inbox:
    with a limit per address typed, anyone could fill that inbox with "set a new password"
    and "someone tried to register" mails by changing a letter each time."""
    limited_app.config.update(MAIL_REQUEST_RATE_LIMIT="2 per hour",
                              LOGIN_RATE_LIMIT="100 per minute",
                              REGISTER_RATE_LIMIT="100 per minute")
    for variants in (["hanako+1@example.org", "hanako+2@example.org", "hanako@example.org",
                      "Hanako+news@example.org"],
                     ["taro.yamada@gmail.com", "t.a.r.o.yamada+x@gmail.com",
                      "taroyamada@googlemail.com", "TaroYamada@gmail.com"]):
        for form in ("/auth/reset", "/auth/register"):
            answers = []
            for n, email in enumerate(variants):
                client = limited_app.test_client()
                answers.append(register(client, email).status_code if form == "/auth/register"
                               else client.post(form, data={"email": email}, environ_base={
                                   "REMOTE_ADDR": f"192.0.2.{n}"}).status_code)
            if form == "/auth/reset":
                assert answers == [303, 303, 429, 429], (variants, form)
            else:  # the two mails of the reset form already took the inbox's two
                assert answers == [429, 429, 429, 429], (variants, form)


def test_a_stop_from_one_spelling_of_an_inbox_stops_the_others(client, db, mailbox) -> None:
    client.post("/auth/reset", data={"email": "hanako+shop@gmail.com"})
    [message] = mailbox.deliver()
    assert client.post(_path(message["List-Unsubscribe"].strip("<>"))).status_code == 200
    for email in ("hanako@gmail.com", "ha.nako+news@gmail.com", "HANAKO@googlemail.com"):
        client.post("/auth/reset", data={"email": email})
        assert register(client, email).status_code == 303  # a new account: it must confirm
    delivered = mailbox.deliver()
    # no notice someone else caused; only the confirmations of the new accounts
    assert all("/auth/confirm/" in mailbox.text(m) for m in delivered)
