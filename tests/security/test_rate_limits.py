"""Rate limits: login (per address and per account), registration, posting and voting."""

from __future__ import annotations

import importlib.util
import re
import secrets
import time
from collections.abc import Iterator
from typing import ClassVar

import pytest
import sqlalchemy as sa
from flask import Flask
from limits.errors import ConfigurationError
from limits.storage import MemoryStorage

from app import create_app
from app.extensions import limiter
from app.ratelimits import post_limit, vote_limit
from deliberation.database import db as _db
from deliberation.models import VoteEvent
from tests import factories
from tests.security.conftest import client_for

EN = {"Accept-Language": "en"}
TOO_MANY_EN = "Too many attempts in a short time. Please wait a minute and try again."


def _login(client, email: str, address: str = "127.0.0.1", headers=EN):
    return client.post("/auth/login", data={"email": email, "password": "wrong password"},
                       headers=headers, environ_base={"REMOTE_ADDR": address})


def test_login_is_limited_per_address_with_translated_message(limited_app: Flask) -> None:
    client = limited_app.test_client()
    statuses = [_login(client, f"u{i}@example.org").status_code for i in range(3)]
    assert statuses == [400, 400, 400]
    response = _login(client, "u9@example.org")
    assert response.status_code == 429
    assert TOO_MANY_EN in response.get_data(as_text=True)
    assert response.headers.get("Retry-After")
    ja = _login(client, "u9@example.org", headers={"Accept-Language": "ja"})
    assert ja.status_code == 429
    assert 'lang="ja"' in ja.get_data(as_text=True)  # rendered through gettext in Japanese
    # GET of the login page is never limited.
    assert client.get("/auth/login").status_code == 200


def test_login_backs_off_per_account_across_addresses(limited_app: Flask) -> None:
    from deliberation.services import login_throttle

    limited_app.config["LOGIN_ACCOUNT_FREE_FAILURES"] = 3
    client = limited_app.test_client()
    assert _login(client, "target@example.org", address="10.0.0.1").status_code == 400
    with limited_app.app_context():  # five more failures from five more addresses
        for i in range(2, 7):
            login_throttle.record_failure(limited_app.secret_key, f"10.0.0.{i}",
                                          "target@example.org")
    blocked = _login(client, "Target@Example.org", address="10.0.0.99")
    assert blocked.status_code == 429
    assert blocked.headers["Retry-After"]
    wait = int(re.search(r"Please wait (\d+) seconds?", blocked.get_data(as_text=True)).group(1))
    assert 1 <= wait <= 8  # 2 ** (6 - 3) s after the last failure: a pause, not a block
    # Another account from a fresh address is unaffected.
    assert _login(client, "someone@example.org", address="10.0.1.1").status_code == 400


def test_register_is_limited(limited_app: Flask) -> None:
    client = limited_app.test_client()
    for _ in range(2):
        assert client.post("/auth/register", data={}, headers=EN).status_code == 400
    assert client.post("/auth/register", data={}, headers=EN).status_code == 429


def test_json_429_for_api_paths(limited_app: Flask) -> None:
    @limited_app.route("/api/v1/_limited", methods=["POST"])
    @vote_limit
    def limited_api() -> dict:
        return {"ok": True}

    user = factories.make_user()
    client = client_for(limited_app, user)
    for _ in range(3):
        assert client.post("/api/v1/_limited").status_code == 200
    response = client.post("/api/v1/_limited", headers=EN)
    assert response.status_code == 429
    assert response.get_json()["error"]["message"] == TOO_MANY_EN


def test_post_limit_is_per_account_and_shared_between_views(limited_app: Flask) -> None:
    @limited_app.route("/_test/propose", methods=["GET", "POST"])
    @post_limit
    def propose() -> str:
        return "ok"

    @limited_app.route("/_test/report", methods=["POST"])
    @post_limit
    def report() -> str:
        return "ok"

    alice = client_for(limited_app, factories.make_user())
    assert alice.post("/_test/propose").status_code == 200
    assert alice.post("/_test/report").status_code == 200
    blocked = alice.post("/_test/propose", headers=EN)
    assert blocked.status_code == 429
    assert TOO_MANY_EN in blocked.get_data(as_text=True)
    assert alice.get("/_test/propose").status_code == 200  # reading is not limited
    # The limit follows the account, not the address: another account is unaffected.
    bob = client_for(limited_app, factories.make_user())
    assert bob.post("/_test/propose").status_code == 200


def test_htmx_429_is_a_fragment(limited_app: Flask) -> None:
    @limited_app.route("/_test/vote", methods=["POST"])
    @vote_limit
    def vote() -> str:
        return "ok"

    client = client_for(limited_app, factories.make_user())
    headers = {**EN, "HX-Request": "true"}
    for _ in range(3):
        client.post("/_test/vote", headers=headers)
    response = client.post("/_test/vote", headers=headers)
    assert response.status_code == 429
    body = response.get_data(as_text=True)
    assert TOO_MANY_EN in body
    assert "<html" not in body


def test_real_vote_and_propose_routes_are_limited(limited_app: Flask) -> None:
    """The rounds blueprint uses the shared limits: 4th vote and 3rd proposal get 429, and
    nothing of the refused requests is stored."""
    import sqlalchemy as sa

    from deliberation.database import db
    from deliberation.models import Proposal, VoteEvent

    round_ = factories.make_round(phase="collecting")
    proposals = [factories.make_proposal(round_, f"Idea number {i}") for i in range(5)]
    slug = round_.slug
    client = client_for(limited_app, factories.make_user())
    headers = {**EN, "HX-Request": "true"}
    for proposal in proposals[:3]:
        saved = client.post(f"/rounds/{slug}/vote", headers=headers,
                            data={"proposal_id": proposal.id, "value": "1"})
        assert saved.status_code == 200 and "Your vote was saved." in saved.get_data(as_text=True)
    refused = client.post(f"/rounds/{slug}/vote", headers=headers,
                          data={"proposal_id": proposals[3].id, "value": "1"})
    assert refused.status_code == 429 and TOO_MANY_EN in refused.get_data(as_text=True)
    for i in range(2):
        client.post(f"/rounds/{slug}/propose", headers=EN, data={"text": f"Fresh idea {i}"})
    refused = client.post(f"/rounds/{slug}/propose", headers=EN, data={"text": "One too many"})
    assert refused.status_code == 429 and TOO_MANY_EN in refused.get_data(as_text=True)
    with limited_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(VoteEvent)) == 3 + 2
        texts = set(db.session.scalars(sa.select(Proposal.text)))
        assert {"Fresh idea 0", "Fresh idea 1"} <= texts and "One too many" not in texts


def test_vote_limit_headers_and_retry_after(limited_app: Flask) -> None:
    @limited_app.route("/_test/headers", methods=["POST"])
    @vote_limit
    def limited_view() -> str:
        return "ok"

    client = client_for(limited_app, factories.make_user())
    now = time.time()
    remaining = []
    for _ in range(3):
        response = client.post("/_test/headers")
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "3"
        # the reset second is rounded up: up to a minute and two seconds from `now`
        assert now < int(response.headers["X-RateLimit-Reset"]) <= now + 62
        remaining.append(response.headers["X-RateLimit-Remaining"])
    assert remaining == ["2", "1", "0"]
    refused = client.post("/_test/headers", headers=EN)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


def test_every_limit_of_a_setting_counts(limited_app: Flask) -> None:
    limited_app.config["VOTE_RATE_LIMIT"] = "100 per minute; 2 per hour"

    @limited_app.route("/_test/two_limits", methods=["POST"])
    @vote_limit
    def limited_view() -> str:
        return "ok"

    client = client_for(limited_app, factories.make_user())
    assert [client.post("/_test/two_limits").status_code for _ in range(3)] == [200, 200, 429]
    assert 60 < int(client.post("/_test/two_limits").headers["Retry-After"]) <= 3600


class UnreachableStorage(MemoryStorage):
    """A rate-limit store that is down, as Redis during an outage (limits finds storage
    classes by their ``STORAGE_SCHEME``)."""

    STORAGE_SCHEME: ClassVar[list[str]] = ["unreachable"]

    def incr(self, *args: object, **kwargs: object) -> int:
        raise ConnectionError("rate-limit store unreachable")

    def get(self, *args: object, **kwargs: object) -> int:
        raise ConnectionError("rate-limit store unreachable")

    def get_expiry(self, *args: object, **kwargs: object) -> float:
        raise ConnectionError("rate-limit store unreachable")

    def check(self) -> bool:
        return False


@pytest.fixture()
def app_with_store_down(app: Flask, db) -> Iterator[Flask]:
    down = create_app({"TESTING": True, "RATELIMIT_ENABLED": True,
                       "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                       "RATELIMIT_STORAGE_URI": "unreachable://", "VOTE_RATE_LIMIT": "1 per minute"})
    try:
        yield down
    finally:
        limiter.enabled = False
        with down.app_context():
            _db.session.remove()
            _db.engine.dispose()


def test_votes_go_through_when_the_rate_limit_store_is_down(app_with_store_down: Flask) -> None:
    round_ = factories.make_round(phase="voting")
    proposals = [factories.make_proposal(round_, f"Idea number {i}") for i in range(3)]
    client = client_for(app_with_store_down, factories.make_user())
    for proposal in proposals:  # more than the limit allows: the limit cannot be counted
        response = client.post(f"/rounds/{round_.slug}/vote", headers={**EN, "HX-Request": "true"},
                               data={"proposal_id": proposal.id, "value": "1"})
        assert response.status_code == 200 and "Your vote was saved." in response.text
    with app_with_store_down.app_context():
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(VoteEvent)) == 3


def test_production_refuses_rate_limits_counted_per_process(monkeypatch: pytest.MonkeyPatch,
                                                           app: Flask) -> None:
    monkeypatch.setenv("HIROBA_ENV", "production")
    settings = {"SECRET_KEY": secrets.token_hex(32), "CLUSTER_RUNNER": "off",
                "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]}
    try:
        with pytest.raises(RuntimeError, match="RATELIMIT_STORAGE_URI must name a store"):
            create_app(settings)
        assert create_app({**settings, "RATELIMIT_STORAGE_URI": "unreachable://"})
        # A single process may count in memory, when asked explicitly.
        assert create_app({**settings, "RATELIMIT_ALLOW_MEMORY_STORAGE": True})
    finally:
        limiter.enabled = False


def test_production_with_redis_needs_the_redis_extra(monkeypatch: pytest.MonkeyPatch,
                                                     app: Flask) -> None:
    """RATELIMIT_STORAGE_URI=redis://... is what production is told to use: with the extra
    (requirements-redis.txt) installed the app starts; without it the app refuses to start
    and names the missing package, instead of serving without a working limit."""
    monkeypatch.setenv("HIROBA_ENV", "production")
    settings = {"SECRET_KEY": secrets.token_hex(32), "CLUSTER_RUNNER": "off",
                "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0"}
    try:
        if importlib.util.find_spec("redis") is None:
            with pytest.raises(ConfigurationError, match="'redis' prerequisite"):
                create_app(settings)
        else:
            assert create_app(settings)
    finally:
        limiter.enabled = False


@pytest.mark.parametrize(("language", "refusal"), [
    ("ja", "この接続から短い時間に多くのアカウントが作られました"),
    ("en", "Many accounts have just been created from this connection.")])
def test_a_bot_farm_on_one_address_is_refused_and_leaves_nothing(
        limited_app: Flask, language: str, refusal: str) -> None:
    """Ten complete registrations from one address: the ones past the limit are refused
    with the reason in the reader's language, and store no account and queue no mail."""
    from deliberation.models import OutgoingMail, User

    def count(model) -> int:
        return _db.session.scalar(sa.select(sa.func.count()).select_from(model))

    client = limited_app.test_client()
    statuses = []
    for n in range(10):
        before = count(User), count(OutgoingMail)
        response = client.post("/auth/register", headers={"Accept-Language": language},
                               data={"email": f"farm{n}@example.net", "display_name": "bot",
                                     "kind": "resident", "password": "bot-password-1",
                                     "password2": "bot-password-1", "consent": "y"})
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert (count(User), count(OutgoingMail)) == before
            text = response.get_data(as_text=True)
            assert refusal in text and 'value="farm' in text  # what was typed is kept
    assert statuses == [303, 303] + [429] * 8
    assert count(User) == 2


@pytest.mark.parametrize("body", ["{" * 100, "not json"])
def test_a_refused_registration_sent_as_broken_json_gets_the_429_page(
        limited_app: Flask, caplog: pytest.LogCaptureFixture, body: str) -> None:
    """The refused form is shown again as typed; a body that cannot be read as a form has
    nothing to show again, so it gets the plain translated 429, and nothing in the log
    reads as a failure."""
    client = limited_app.test_client()
    for _ in range(2):
        client.post("/auth/register", data={"email": "x"}, headers=EN)
    response = client.post("/auth/register", data=body, headers={
        **EN, "Content-Type": "application/json"})
    assert response.status_code == 429
    assert TOO_MANY_EN in response.get_data(as_text=True)
    assert [r for r in caplog.records if r.levelname == "ERROR"] == []


def test_open_data_downloads_are_limited_per_address(limited_app: Flask) -> None:
    """A round's open data is built on each download (seconds for a large round): one
    address gets DOWNLOAD_RATE_LIMIT of them, in its own language, another is unaffected."""
    limited_app.config["DOWNLOAD_RATE_LIMIT"] = "2 per minute"
    round_ = factories.make_round(phase="closed", open_data_enabled=True)
    path = f"/agenda/rounds/{round_.slug}/open-data.zip"
    client = limited_app.test_client()
    first = {"REMOTE_ADDR": "10.1.0.1"}
    for _ in range(2):
        response = client.get(path, environ_base=first)
        assert response.status_code == 200 and response.mimetype == "application/zip"
    refused = client.get(path, environ_base=first, headers={"Accept-Language": "ja"})
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert "短い時間に何度も操作が行われました" in refused.get_data(as_text=True)
    assert client.get(path, environ_base={"REMOTE_ADDR": "10.1.0.2"}).status_code == 200
