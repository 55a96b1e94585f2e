"""The default rate-limit storage (app/ratelimit_storage.py): limits' in-memory counters
without a new timer thread per request."""

from __future__ import annotations

import threading
import time

import pytest
from flask import Flask
from limits import parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from app import ratelimit_storage
from app.extensions import limiter
from app.ratelimit_storage import SweptMemoryStorage


def _count_timer_starts(monkeypatch: pytest.MonkeyPatch) -> list[threading.Timer]:
    started: list[threading.Timer] = []
    original = threading.Timer.start

    def start(timer: threading.Timer) -> None:
        started.append(timer)
        original(timer)

    monkeypatch.setattr(threading.Timer, "start", start)
    return started


def test_the_default_uri_gives_the_swept_storage(limited_app: Flask) -> None:
    assert limited_app.config["RATELIMIT_STORAGE_URI"] == "swept-memory://"
    assert isinstance(storage_from_string("swept-memory://"), SweptMemoryStorage)
    assert isinstance(limiter.storage, SweptMemoryStorage)


@pytest.mark.parametrize(("storage_class", "many_threads"),
                         [(MemoryStorage, True), (SweptMemoryStorage, False)])
def test_steady_hits_do_not_start_a_thread_each(
    monkeypatch: pytest.MonkeyPatch, storage_class: type[MemoryStorage], many_threads: bool
) -> None:
    """One hit every 20 ms for 0.4 s: limits' MemoryStorage starts a timer thread for most
    of them (the cost this module removes); the swept storage at most one."""
    storage = storage_class()
    limiter_ = FixedWindowRateLimiter(storage)
    item = parse("1000 per minute")
    started = _count_timer_starts(monkeypatch)
    for _ in range(20):
        assert limiter_.hit(item, "user:1", "vote")
        time.sleep(0.02)
    assert limiter_.get_window_stats(item, "user:1", "vote").remaining == 980
    if many_threads:
        assert len(started) >= 10
    else:
        assert len(started) <= 1
        assert all(timer.daemon for timer in started)


def test_limits_still_apply_and_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit_storage, "SWEEP_INTERVAL_SECONDS", 0.05)
    storage = SweptMemoryStorage()
    fixed = FixedWindowRateLimiter(storage)
    item = parse("2 per 1 second")
    assert fixed.hit(item, "user:7") and fixed.hit(item, "user:7")
    assert not fixed.hit(item, "user:7")  # third in the window: refused
    assert fixed.hit(item, "user:8")  # other keys are counted apart
    time.sleep(1.1)
    assert fixed.hit(item, "user:7")  # a new window

    moving = MovingWindowRateLimiter(storage)
    assert moving.hit(item, "ip:1") and moving.hit(item, "ip:1")
    assert not moving.hit(item, "ip:1")


def test_the_sweep_frees_expired_counters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit_storage, "SWEEP_INTERVAL_SECONDS", 0.05)
    storage = SweptMemoryStorage()
    storage.incr("short", expiry=0.05)
    storage.incr("long", expiry=60)
    deadline = time.monotonic() + 3
    while "short" in storage.storage and time.monotonic() < deadline:
        storage.incr("long", expiry=60)  # traffic on another key schedules the sweep
        time.sleep(0.02)
    assert "short" not in storage.storage
    assert storage.get("long") > 1
