"""Confirmation, password reset, change of address, stop links: through the pages and a
real SMTP server, with the same answers whether an address has an account or not."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from deliberation.models import MailSuppression, OutgoingMail, User, utcnow
from tests import factories
from tests.races import committed_first

EN = {"Accept-Language": "en"}
NEW_PASSWORD = "violet kettle harbour"


def _path(url: str) -> str:
    return urlsplit(url).path


def register(client, email: str = "hanako@example.org", **extra):
    data = {"email": email, "display_name": "Hanako", "kind": "resident",
            "password": "long enough password", "password2": "long enough password",
            "consent": "y", **extra}
    return client.post("/auth/register", data=data, headers=EN)


def _user(db, email: str) -> User:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.email == email))


def test_registration_mails_a_link_that_confirms_the_address(client, db, mailbox) -> None:
    response = register(client)
    assert response.status_code == 303
    assert "check your mail" in client.get(response.headers["Location"], headers=EN).text.lower()
    [message] = mailbox.deliver()
    assert message["To"] == "hanako@example.org"
    assert "メールアドレスを確認" in str(message["Subject"])  # Japanese by default
    link = mailbox.link(message, "/auth/confirm/")
    assert link.startswith("https://hiroba.example/")  # PUBLIC_URL, not the Host header
    page = client.get(_path(link), headers=EN)
    assert page.status_code == 200 and _user(db, "hanako@example.org").email_confirmed_at is None
    assert client.post(_path(link), headers=EN).status_code == 303  # GET alone changes nothing
    user = _user(db, "hanako@example.org")
    assert user.email_confirmed_at is not None and user.verification_level == "email"
    assert not user.is_verified  # "verified" rounds need resident verification


def test_every_mail_has_a_plain_text_part_first_and_the_same_words_in_html(client, db, mailbox
                                                                           ) -> None:
    assert register(client).status_code == 303
    [message] = mailbox.deliver()
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    assert all(part.get_content_charset() == "utf-8" for part in parts)
    html = message.get_body(preferencelist=("html",)).get_content()
    link = mailbox.link(message, "/auth/confirm/")
    assert f'<a href="{link}">' in html and '<html lang="ja">' in html
    assert "<script" not in html and "<img" not in html
    assert str(message["Subject"]) == "メールアドレスを確認してください"

def test_a_taken_address_gets_the_same_answer_and_its_owner_a_mail(client, db, mailbox) -> None:
    factories.make_user(email="hanako@example.org", display_name="Owner")
    taken = register(client, "Hanako@example.org")
    fresh = register(client, "other@example.org")
    assert (taken.status_code, taken.headers["Location"]) == \
        (fresh.status_code, fresh.headers["Location"])
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 2
    by_recipient = {m["To"]: m for m in mailbox.deliver()}
    owner_text = mailbox.text(by_recipient["hanako@example.org"])
    assert "/auth/reset" in owner_text and "/auth/confirm/" not in owner_text
    assert "/auth/confirm/" in mailbox.text(by_recipient["other@example.org"])


def test_a_registration_sent_twice_at_once_makes_one_account(client, db, mailbox) -> None:
    other = sa.insert(User).values(
        email="hanako@example.org", display_name="Hanako", kind="resident", role="citizen",
        consent_version="test", consented_at=utcnow(), password_hash="x")
    with committed_first(User, lambda: other) as raced:
        response = register(client)
    assert raced
    assert response.status_code == 303
    assert _path(response.headers["Location"]) == "/auth/check-mail"
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1
    [message] = mailbox.deliver()  # the owner hears of a second try, as for any taken address
    assert message["To"] == "hanako@example.org"


@pytest.mark.parametrize("password, message", [
    ("password", "too easy to guess"),
    ("12345678", "too easy to guess"),
    ("hanako@example.org", "do not use your email address"),
    ("short", "at least 8 characters"),
])
def test_weak_passwords_are_refused_and_nothing_is_stored(client, db, password, message) -> None:
    response = register(client, password=password, password2=password)
    assert response.status_code == 400
    assert message in response.text
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(OutgoingMail.id))) == 0


def test_weak_password_message_is_japanese_by_default(client, db) -> None:
    response = client.post("/auth/register", data={
        "email": "a@example.org", "display_name": "A", "kind": "resident",
        "password": "password", "password2": "password", "consent": "y"})
    assert response.status_code == 400
    assert "推測されやすい" in response.text


def test_password_reset_by_mail(client, db, mailbox) -> None:
    factories.make_user(email="taro@example.org")
    response = client.post("/auth/reset", data={"email": "Taro@example.org"}, headers=EN)
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/check-mail?reason=reset"
    [message] = mailbox.deliver()
    link = _path(mailbox.link(message, "/auth/reset/"))
    assert client.get(link).status_code == 200
    weak = client.post(link, data={"password": "password", "password2": "password"}, headers=EN)
    assert weak.status_code == 400 and "too easy to guess" in weak.text
    done = client.post(link, data={"password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 303
    login = client.post("/auth/login", data={"email": "taro@example.org", "password": NEW_PASSWORD})
    assert login.status_code == 303
    # The link works once: the password it was made for is gone.
    again = client.post(link, data={"password": "another long phrase", "password2":
                                     "another long phrase"}, headers=EN)
    assert again.status_code == 400 and "invalid or has expired" in again.text
    assert _user(db, "taro@example.org").email_confirmed_at is not None


def test_reset_for_an_unknown_address_answers_the_same(client, db, mailbox) -> None:
    factories.make_user(email="taro@example.org")
    known = client.post("/auth/reset", data={"email": "taro@example.org"})
    unknown = client.post("/auth/reset", data={"email": "nobody@example.org"})
    assert (known.status_code, known.headers["Location"]) == \
        (unknown.status_code, unknown.headers["Location"])
    by_recipient = {m["To"]: m for m in mailbox.deliver()}
    assert "/auth/reset/" in mailbox.text(by_recipient["taro@example.org"])
    no_account = mailbox.text(by_recipient["nobody@example.org"])
    assert "/auth/reset/" not in no_account and "/auth/register" in no_account


@pytest.mark.parametrize("token", ["garbage", "x" * 2000, "eyJ1IjoxfQ.forged.sig"])
def test_bad_links_are_refused_clearly(client, db, token) -> None:
    for path in (f"/auth/confirm/{token}", f"/auth/reset/{token}",
                 f"/account/email/confirm/{token}", f"/account/unsubscribe/{token}"):
        response = client.get(path, headers=EN)
        assert response.status_code == 400, path
        if "unsubscribe" in path:
            # a stop link never expires, and asking for a new one or a password does not
            # stop mails: it says the link was cut and where mails are turned off
            assert "expired" not in response.text and "Forgot your password" not in response.text
            assert "incomplete or altered" in response.text
            assert 'href="/auth/login?next=/auth/password">Log in to change your mail' \
                in response.text
        else:
            assert "invalid or has expired" in response.text
        assert client.post(path, headers=EN).status_code == 400


@pytest.mark.parametrize("user_id", [True, 1.0, 2**40, 0, None])
def test_a_signed_link_names_an_account_only_by_a_row_id(client, db, user_id) -> None:
    """A token's account id is read as every id is (deliberation.ids.parse_id): ``true``,
    a float or a number beyond the column's range names no account (not account 1)."""
    from app.mail import make_token

    user = factories.make_user(email="hanako@example.org")
    assert user.id == 1 and user.email_confirmed_at is None
    token = make_token("confirm-email", {"u": user_id, "e": "hanako@example.org"})
    assert client.post(f"/auth/confirm/{token}", headers=EN).status_code == 400
    db.session.refresh(user)
    assert user.email_confirmed_at is None


def test_changing_the_address_takes_effect_only_when_confirmed(client, db, mailbox, login_as) -> None:
    user = login_as(email="old@example.org")
    wrong = client.post("/account/email", data={"email": "new@example.org",
                                                "password": "wrong"}, headers=EN)
    assert wrong.status_code == 400 and "password is wrong" in wrong.text
    response = client.post("/account/email", data={"email": "new@example.org",
                                                   "password": factories.PASSWORD})
    assert response.status_code == 303
    assert _user(db, "old@example.org") is not None  # not yet
    by_recipient = {m["To"]: m for m in mailbox.deliver()}
    assert set(by_recipient) == {"new@example.org", "old@example.org"}  # old one is told
    link = _path(mailbox.link(by_recipient["new@example.org"], "/account/email/confirm/"))
    assert client.post(link).status_code == 303
    changed = _user(db, "new@example.org")
    assert changed.id == user.id and changed.verification_level == "email"


def test_after_asking_for_a_new_address_a_logged_in_person_goes_back_to_the_account(
        client, db, login_as) -> None:
    """The page that says "check your mail" offers a logged-in person their account, not
    a login button they have no use for."""
    login_as(email="me@example.org")
    response = client.post("/account/email", data={"email": "new@example.org",
                                                   "password": factories.PASSWORD})
    page = client.get(response.headers["Location"], headers=EN).text
    assert 'href="/account/"' in page and "Back to your account" in page
    assert "/auth/login" not in page.split("<main", 1)[1]


def test_changing_to_a_taken_address_answers_the_same(client, db, mailbox, login_as) -> None:
    factories.make_user(email="taken@example.org")
    login_as(email="me@example.org")
    response = client.post("/account/email", data={"email": "taken@example.org",
                                                   "password": factories.PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/check-mail?reason=email"
    by_recipient = {m["To"]: m for m in mailbox.deliver()}
    assert "/account/email/confirm/" not in mailbox.text(by_recipient["taken@example.org"])


def test_the_stop_link_turns_notifications_off_and_suppresses_notices(client, db, mailbox) -> None:
    factories.make_user(email="taro@example.org", notify_council_answers=True)
    client.post("/auth/reset", data={"email": "taro@example.org"})
    [message] = mailbox.deliver()
    stop = message["List-Unsubscribe"].strip("<>")
    assert mailbox.link(message, "/account/unsubscribe/") == stop
    assert client.get(_path(stop)).status_code == 200
    # One-click from the mail client (RFC 8058): a POST without a CSRF token.
    assert client.post(_path(stop), data={"List-Unsubscribe": "One-Click"}).status_code == 200
    user = _user(db, "taro@example.org")
    assert not user.notify_council_answers and not user.notify_own_proposals
    assert db.session.scalar(sa.select(sa.func.count(MailSuppression.address_hash))) == 1


def test_no_unrequested_notice_goes_to_a_stopped_address(client, db, mailbox) -> None:
    client.post("/auth/reset", data={"email": "stranger@example.org"})
    [message] = mailbox.deliver()
    client.post(_path(message["List-Unsubscribe"].strip("<>")))
    client.post("/auth/reset", data={"email": "stranger@example.org"})
    assert mailbox.deliver() == []


def test_notification_settings_on_the_account_page(client, db, login_as) -> None:
    user = login_as()
    page = client.get("/auth/password", headers=EN).text
    assert "Email me when the council answers" in page
    assert client.post("/account/notifications",
                       data={"council_answers": "y"}).status_code == 303
    stored = _user(db, user.email)
    assert stored.notify_council_answers and not stored.notify_own_proposals


@pytest.mark.parametrize("email", ["", "not-an-address", "a@" + "b" * 260 + ".example",
                                   "\u0000@example.org"])
def test_bad_addresses_on_the_reset_form_are_refused(client, db, email) -> None:
    response = client.post("/auth/reset", data={"email": email}, headers=EN)
    assert response.status_code == 400
    assert 'class="error"' in response.text
    assert db.session.scalar(sa.select(sa.func.count(OutgoingMail.id))) == 0


@pytest.mark.parametrize("data", [
    {"email": "not-an-address", "password": factories.PASSWORD},
    {"email": "new@example.org", "password": ""},
    {"email": "ME@example.org", "password": factories.PASSWORD},  # the current address
])
def test_bad_changes_of_address_are_refused(client, db, login_as, data) -> None:
    login_as(email="me@example.org")
    response = client.post("/account/email", data=data, headers=EN)
    assert response.status_code == 400
    assert 'class="error"' in response.text
    assert db.session.scalar(sa.select(sa.func.count(OutgoingMail.id))) == 0
    assert _user(db, "me@example.org") is not None


def test_bad_new_passwords_on_the_reset_page_store_nothing(client, db, mailbox) -> None:
    user = factories.make_user(email="taro@example.org")
    client.post("/auth/reset", data={"email": "taro@example.org"})
    [message] = mailbox.deliver()
    link = _path(mailbox.link(message, "/auth/reset/"))
    before = user.password_hash
    for data in ({"password": "violet kettle harbour", "password2": "different words here"},
                 {"password": "taro@example.org!", "password2": "taro@example.org!"},
                 {"password": "x" * 201, "password2": "x" * 201}):
        response = client.post(link, data=data, headers=EN)
        assert response.status_code == 400 and 'class="error"' in response.text
    assert _user(db, "taro@example.org").password_hash == before


def test_deleting_the_account_drops_its_unsent_mails(client, db, login_as) -> None:
    user = login_as(email="leaving@example.org")
    client.post("/auth/resend-confirmation")
    assert db.session.scalar(sa.select(sa.func.count(OutgoingMail.id))) == 1
    assert client.post("/account/delete", data={"password": factories.PASSWORD,
                                                "confirm": "y"}).status_code == 303
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(OutgoingMail.id))) == 0
    assert db.session.get(User, user.id).email is None
