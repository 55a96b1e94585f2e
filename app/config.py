"""Configuration classes. Values come from the environment; see README "Configuration"."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value is None or not value.strip() else int(value)


# Secrets that appear in this repository, its documentation or common examples: a
# deployment that copied one would sign sessions with a key anyone can look up.
KNOWN_SECRETS = frozenset({
    "dev-only-not-secret", "test-only-not-secret", "x", "changeme", "change-me", "change_me",
    "secret", "secret-key", "secret_key", "your-secret-key", "replace-me", "please-change-me",
    "...", "none", "null", "password", "hiroba", "hiroba-demo",
})
MIN_SECRET_BYTES = 32


def secret_key_problem(secret: str | bytes | None) -> str | None:
    """Why ``secret`` must not sign production sessions, or None when it may."""
    if not secret:
        return "SECRET_KEY must be set"
    raw = secret.encode("utf-8") if isinstance(secret, str) else secret
    if raw.strip().lower().decode("utf-8", "replace") in KNOWN_SECRETS:
        return "SECRET_KEY is a published development or placeholder value"
    if len(raw) < MIN_SECRET_BYTES:
        return f"SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes long"
    if len(set(raw)) < 8:
        return "SECRET_KEY repeats too few characters to be random"
    return None


def _database_url(instance_path: str) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        # Heroku-style URLs name the driver "postgres"; SQLAlchemy wants psycopg 3.
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgres://")
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url
    return "sqlite:///" + str(Path(instance_path) / "hiroba.sqlite3")


class Config:
    ENVIRONMENT = "development"
    SECRET_KEY: str | None = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI: str | None = None  # filled in by configure_database()
    # A pooled connection that the database closed (a restart) is replaced, not used.
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, Any]] = {"pool_pre_ping": True}
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 16 * 1024 * 1024))

    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # pages left open keep working

    BABEL_DEFAULT_LOCALE = "ja"
    BABEL_DEFAULT_TIMEZONE = "Asia/Tokyo"
    LANGUAGES = ("ja", "en")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)

    RATELIMIT_ENABLED = True
    # memory:// counts per process; production needs a store that all processes share.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ALLOW_MEMORY_STORAGE = _bool("RATELIMIT_ALLOW_MEMORY_STORAGE", False)
    RATELIMIT_SWALLOW_ERRORS = True  # storage unreachable: serve the request unlimited
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    REGISTER_RATE_LIMIT = os.environ.get("REGISTER_RATE_LIMIT", "5 per minute")
    # Registrations through one open workshop's link (instead of REGISTER_RATE_LIMIT per
    # address: everyone in the room shares one); its seats cap the total.
    WORKSHOP_REGISTER_RATE_LIMIT = os.environ.get("WORKSHOP_REGISTER_RATE_LIMIT",
                                                  "30 per minute")
    POST_RATE_LIMIT = os.environ.get("POST_RATE_LIMIT", "10 per minute")
    VOTE_RATE_LIMIT = os.environ.get("VOTE_RATE_LIMIT", "120 per minute")
    # Public files built on each request (a round's open data: seconds of CPU for a large
    # round), so that a few clients cannot keep the server's workers busy.
    DOWNLOAD_RATE_LIMIT = os.environ.get("DOWNLOAD_RATE_LIMIT", "10 per minute")
    # "module:Class" of a NationalIdVerifier (deliberation/services/national_id.py); unset:
    # verification with a national-ID app is not offered
    NATIONAL_ID_VERIFIER = os.environ.get("NATIONAL_ID_VERIFIER") or None
    # The key of the hashes by which one person verifies one account (a document's number,
    # the national-ID app's pseudonym); unset: SECRET_KEY. Kept apart, SECRET_KEY can be
    # rotated without forgetting who verified which account.
    VERIFICATION_KEY = os.environ.get("VERIFICATION_KEY") or None

    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are trusted.
    # 0 (the default) trusts none: otherwise any client could choose the address that
    # every per-address rate limit counts.
    PROXY_FIX_TRUSTED = _int("PROXY_FIX_TRUSTED", 0)
    # Seconds a client is asked to wait (Retry-After) when the database is unavailable.
    OUTAGE_RETRY_AFTER = _int("OUTAGE_RETRY_AFTER", 5)

    # The town's own Hiroba (README, "Your town"): defaults the admin page can override.
    TOWN_NAME = os.environ.get("HIROBA_TOWN_NAME", "")
    TOWN_NAME_EN = os.environ.get("HIROBA_TOWN_NAME_EN", "")
    TOWN_OPERATOR = os.environ.get("HIROBA_TOWN_OPERATOR", "")
    TOWN_OPERATOR_EN = os.environ.get("HIROBA_TOWN_OPERATOR_EN", "")
    TOWN_CONTACT = os.environ.get("HIROBA_TOWN_CONTACT", "")
    TOWN_TERMS_FILE = os.environ.get("HIROBA_TOWN_TERMS_FILE") or None  # Markdown
    TOWN_TERMS_EN_FILE = os.environ.get("HIROBA_TOWN_TERMS_EN_FILE") or None
    TOWN_LOGO_FILE = os.environ.get("HIROBA_TOWN_LOGO_FILE") or None  # PNG, JPEG or WebP

    # E-mail (README, "E-mail"). Without MAIL_URL, development writes mails to instance/mail/.
    MAIL_URL = os.environ.get("MAIL_URL") or None
    MAIL_FROM = os.environ.get("MAIL_FROM", "hiroba@localhost")
    MAIL_FROM_NAME = os.environ.get("MAIL_FROM_NAME", "ひろば Hiroba")
    # Links in mails start with this (never with the request's Host header).
    PUBLIC_URL = os.environ.get("PUBLIC_URL") or None
    MAIL_TIMEOUT = float(os.environ.get("MAIL_TIMEOUT", 10))
    MAIL_POLL_SECONDS = float(os.environ.get("MAIL_POLL_SECONDS", 2))
    MAIL_MAX_ATTEMPTS = int(os.environ.get("MAIL_MAX_ATTEMPTS", 12))
    MAIL_DEV_PAGE = False  # /dev/mail lists the folder's mails (development only)
    CONFIRM_EMAIL_MAX_AGE = 3 * 24 * 3600
    RESET_PASSWORD_MAX_AGE = 3600
    # Re-entering the password (change, deletion, new address), per account.
    PASSWORD_REENTRY_RATE_LIMIT = os.environ.get("PASSWORD_REENTRY_RATE_LIMIT",
                                                 "5 per minute; 20 per hour")
    # Mails asked for from a form (reset, registration) per submitted address.
    MAIL_REQUEST_RATE_LIMIT = os.environ.get("MAIL_REQUEST_RATE_LIMIT", "3 per hour")
    # Failed logins before the exponential back-off starts: per address and account, and
    # per account from devices that never logged in to it (README, "Account security").
    LOGIN_FREE_FAILURES = int(os.environ.get("LOGIN_FREE_FAILURES", 5))
    LOGIN_ACCOUNT_FREE_FAILURES = int(os.environ.get("LOGIN_ACCOUNT_FREE_FAILURES", 20))
    LOGIN_LONGEST_WAIT = int(os.environ.get("LOGIN_LONGEST_WAIT", 900))
    LOGIN_FIRST_WAIT = float(os.environ.get("LOGIN_FIRST_WAIT", 1))  # seconds, then doubled
    # Werkzeug's scrypt: slow on purpose, so that stolen hashes are expensive to crack.
    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 - a method name, not a password
    CONSENT_VERSION = "2026-12"

    # Background clustering (see deliberation/jobs/runner.py)
    CLUSTER_RUNNER = os.environ.get("CLUSTER_RUNNER", "thread")  # thread | off
    CLUSTER_MIN_INTERVAL = float(os.environ.get("CLUSTER_MIN_INTERVAL", 3))
    CLUSTER_LEASE_SECONDS = float(os.environ.get("CLUSTER_LEASE_SECONDS", 300))
    CLUSTER_POLL_SECONDS = float(os.environ.get("CLUSTER_POLL_SECONDS", 0.5))
    # Snapshots kept per round; older ones are deleted unless an escalation cites them.
    CLUSTER_SNAPSHOT_HISTORY = int(os.environ.get("CLUSTER_SNAPSHOT_HISTORY", 10))
    # BLAS/OpenMP threads per clustering run (0: one per core, the libraries' default).
    CLUSTER_THREADS = int(os.environ.get("CLUSTER_THREADS", 1))
    # Rounds' votes kept in the worker's memory between runs (deliberation/jobs/vote_cache.py):
    # all rounds together, minutes a round may stay unused, and how long a vote transaction
    # may take to commit (empty: 60 s on PostgreSQL, 0 on SQLite).
    CLUSTER_CACHE_MB = float(os.environ.get("CLUSTER_CACHE_MB", 512))
    CLUSTER_CACHE_IDLE_SECONDS = float(os.environ.get("CLUSTER_CACHE_IDLE_SECONDS", 600))
    CLUSTER_CACHE_REREAD_SECONDS = os.environ.get("CLUSTER_CACHE_REREAD_SECONDS", "")

    # Pol.is uploads wait here for the background worker (default: instance/imports).
    IMPORT_FOLDER = os.environ.get("IMPORT_FOLDER") or None
    IMPORT_POLL_SECONDS = float(os.environ.get("IMPORT_POLL_SECONDS", 1))

    POLIS_DATASETS = os.environ.get(
        "POLIS_DATASETS", str(Path(__file__).resolve().parents[1].parent / "shared/datasets/polis")
    )


class DevelopmentConfig(Config):
    ENVIRONMENT = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    MAIL_DEV_PAGE = True


class TestingConfig(Config):
    ENVIRONMENT = "testing"
    TESTING = True
    SECRET_KEY = "test-only-not-secret"  # noqa: S105 (tests only)
    WTF_CSRF_ENABLED = False  # CSRF is switched on by the tests that check it
    RATELIMIT_ENABLED = False  # likewise for rate limits
    CLUSTER_RUNNER = "off"
    # Test accounts guard nothing; scrypt, slow on purpose, would dominate the suite's time.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # noqa: S105 - a method name
    # No liveness query before each use of a pooled connection: a test database is not
    # restarted under a running test, and on PostgreSQL that query is a round trip to the
    # server for every transaction the suite runs. The restart test sets it back.
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, Any]] = {"pool_pre_ping": False}


class ProductionConfig(Config):
    ENVIRONMENT = "production"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_class(name: str | None) -> type[Config]:
    name = name or os.environ.get("HIROBA_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"HIROBA_ENV must be one of {sorted(CONFIGS)}, not {name!r}") from None


def database_url(instance_path: str) -> str:
    return _database_url(instance_path)
