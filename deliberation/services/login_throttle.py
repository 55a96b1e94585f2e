"""Login back-off that an attacker cannot turn against the account's owner.

Failed logins are counted twice, under keyed hashes (no address is stored):

- per client address and submitted e-mail: after ``free`` failures each further try
  waits twice as long as the one before (``first`` s, then twice, four times ... at most
  ``longest`` s);
- per submitted e-mail from every address, with a much larger allowance, for guessing
  spread over many addresses. A browser that has logged in to the account before carries
  a signed cookie naming it (the caller decides; ``trusted``) and skips this count, so the
  owner's own devices never wait because someone else guessed.

Nothing is ever blocked for good: after the wait one more try is allowed. Unknown
addresses are counted exactly like known ones, so the answers tell nothing about which
addresses have accounts. A successful login clears the pair's count.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from deliberation.database import db, insert_or_update
from deliberation.models import LoginFailure
from deliberation.models._common import utcnow
from deliberation.services.accounts import normalise_email


@dataclass(frozen=True)
class Policy:
    free: int = 5
    account_free: int = 20
    longest: int = 900
    first: float = 1.0  # the first wait, doubled after each further failure


def _key(secret: str, *parts: str) -> str:
    key = hashlib.sha256(("login-throttle:" + secret).encode()).digest()
    return hmac.new(key, "\x00".join(parts).encode(), hashlib.sha256).hexdigest()


def keys(secret: str, client: str, email: str) -> tuple[str, str]:
    email = normalise_email(email)  # one count for every way of typing the address
    return _key(secret, "pair", client, email), _key(secret, "account", email)


def _wait(failures: int, free: int, policy: Policy) -> float:
    if failures < free:
        return 0.0
    return float(min(policy.longest, policy.first * 2 ** (failures - free)))


def seconds_to_wait(secret: str, client: str, email: str, *, trusted: bool, policy: Policy,
                    now: datetime | None = None) -> int:
    """0 if a login may be tried now, else the seconds until the next try."""
    now = now or utcnow()
    pair, account = keys(secret, client, email)
    rows = {row.key: row for row in db.session.scalars(
        sa.select(LoginFailure).where(LoginFailure.key.in_([pair, account])))}
    waits = []
    if pair in rows:
        waits.append((rows[pair], _wait(rows[pair].failures, policy.free, policy)))
    if account in rows and not trusted:
        waits.append((rows[account], _wait(rows[account].failures, policy.account_free, policy)))
    remaining = 0.0
    for row, wait in waits:
        until = row.last_failure_at + timedelta(seconds=wait)
        remaining = max(remaining, (until - now).total_seconds())
    return int(remaining + 0.999) if remaining > 0 else 0


def record_failure(secret: str, client: str, email: str, *, now: datetime | None = None) -> None:
    now = now or utcnow()
    for key in keys(secret, client, email):
        statement = insert_or_update(LoginFailure).values(key=key, failures=1, last_failure_at=now)
        db.session.execute(statement.on_conflict_do_update(
            index_elements=[LoginFailure.key],
            set_={"failures": LoginFailure.failures + 1, "last_failure_at": now}))
    db.session.commit()


def record_success(secret: str, client: str, email: str) -> None:
    pair, _account = keys(secret, client, email)
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.key == pair))


def forget_older_than(age: timedelta) -> int:
    """Drop counts whose last failure is older than ``age`` (called by the sender loop)."""
    deleted = db.session.execute(
        sa.delete(LoginFailure).where(LoginFailure.last_failure_at < utcnow() - age)).rowcount
    db.session.commit()
    return deleted
