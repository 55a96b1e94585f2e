"""Hiroba's application factory."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from app import errors, migrations, private_files, request_input, security
from app.config import config_class, database_url, secret_key_problem
from app.extensions import babel, csrf, db, limiter, login_manager
from app.i18n import install_template_gettext, select_locale, select_timezone

ROOT = Path(__file__).resolve().parents[1]


def create_app(config: dict[str, Any] | str | None = None) -> Flask:
    """Create the app. ``config`` is a config name or a mapping of overrides (tests)."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_relative_config=True,
    )
    configure(app, config)
    configure_logger(app)
    request_input.init_app(app)  # id converter, JSON limits, UTF-8 check (before CSRF)
    register_extensions(app)
    register_blueprints(app)
    register_template_helpers(app)
    errors.init_app(app)
    security.init_app(app)
    register_commands(app)
    start_background_runner(app)
    return app


def configure(app: Flask, config: dict[str, Any] | str | None) -> None:
    name = config if isinstance(config, str) else None
    if isinstance(config, dict):
        name = "testing" if config.get("TESTING") else config.get("HIROBA_ENV")
    app.config.from_object(config_class(name))
    Path(app.instance_path).mkdir(mode=0o700, parents=True, exist_ok=True)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url(app.instance_path)
    app.config["IMPORT_FOLDER"] = (app.config["IMPORT_FOLDER"]
                                   or str(Path(app.instance_path) / "imports"))
    if isinstance(config, dict):
        app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY must be set (see README, Configuration).")
    if app.config["ENVIRONMENT"] == "production":
        for name in ("SECRET_KEY", "VERIFICATION_KEY"):
            problem = app.config.get(name) and secret_key_problem(app.config[name])
            if problem:
                raise RuntimeError(f"{problem.replace('SECRET_KEY', name)} (see README, "
                                   "Configuration): generate one with python3 -c 'import "
                                   "secrets; print(secrets.token_hex(32))'")
        if app.config.get("MAIL_URL") and not app.config.get("PUBLIC_URL"):
            # Links in mails would otherwise take the Host header a client sent: a reset
            # requested with a forged Host would mail the victim a link to another site.
            raise RuntimeError("PUBLIC_URL must be set when MAIL_URL is (see README, E-mail)")
    if "PROXY_FIX" in os.environ and "PROXY_FIX_TRUSTED" not in os.environ:
        logging.getLogger(__name__).warning(
            "PROXY_FIX is no longer read: set PROXY_FIX_TRUSTED to the number of reverse "
            "proxies in front of the app (X-Forwarded-* headers are ignored until then)")
    trusted = int(app.config.get("PROXY_FIX_TRUSTED") or 0)
    if trusted > 0:
        # X-Forwarded-For: the address the nearest ``trusted`` proxies saw; the scheme and
        # host: as the nearest proxy (which sets them) forwards them.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted, x_proto=1, x_host=1)
    if app.config["ENVIRONMENT"] == "production" and app.config["RATELIMIT_ENABLED"] \
            and app.config["RATELIMIT_STORAGE_URI"].startswith("memory://") \
            and not app.config["RATELIMIT_ALLOW_MEMORY_STORAGE"]:
        raise RuntimeError(
            "RATELIMIT_STORAGE_URI must name a store that every web process shares, such as "
            "redis://localhost:6379 (pip install --require-hashes -r requirements-redis.lock): with in-memory "
            "storage each process counts on its own. Set RATELIMIT_ALLOW_MEMORY_STORAGE=1 "
            "to run a single process anyway (see README, Configuration).")
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
        options.setdefault("connect_args", {}).setdefault("timeout", 30)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def configure_logger(app: Flask) -> None:
    level = os.environ.get("LOG_LEVEL", "INFO")
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """WAL mode (the busy timeout, so that concurrent writers wait instead of failing, is
    the driver's ``timeout``, 30 s unless the engine options say otherwise); the database
    file readable by the service's user only."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    for _seq, name, path in cursor.execute("PRAGMA database_list").fetchall():
        if name == "main":
            private_files.restrict_sqlite(path)
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def register_extensions(app: Flask) -> None:
    import deliberation.models  # noqa: F401  (register the models with the metadata)

    db.init_app(app)
    migrations.init_app(app, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_translation_directories=str(ROOT / "app" / "translations"),
    )
    install_template_gettext(app)  # looked up once per request (app/i18n.py)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    from app.auth.session import load_user, unauthorized

    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(unauthorized)


def register_blueprints(app: Flask) -> None:
    from app.a11y import bp as a11y_bp
    from app.account import bp as account_bp
    from app.admin import bp as admin_bp
    from app.agenda import bp as agenda_bp
    from app.api import bp as api_bp
    from app.auth import bp as auth_bp
    from app.devmail import bp as devmail_bp
    from app.facilitate import bp as facilitate_bp
    from app.health import bp as health_bp
    from app.main import bp as main_bp
    from app.reading import bp as reading_bp
    from app.rounds import bp as rounds_bp
    from app.verify import bp as verify_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(a11y_bp)
    app.register_blueprint(reading_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(account_bp, url_prefix="/account")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(facilitate_bp, url_prefix="/facilitate")
    app.register_blueprint(agenda_bp, url_prefix="/agenda")
    app.register_blueprint(health_bp)
    app.register_blueprint(devmail_bp)
    app.register_blueprint(rounds_bp, url_prefix="/rounds")
    app.register_blueprint(verify_bp, url_prefix="/verify")


def register_template_helpers(app: Flask) -> None:
    from app import reading, template_helpers, town

    template_helpers.init_app(app)
    reading.init_app(app)  # furigana after each request, the reader setting in templates
    town.init_app(app)


def register_commands(app: Flask) -> None:
    from app import cli

    cli.init_app(app)


def start_background_runner(app: Flask) -> None:
    """Embedded clustering runner (deliberation/jobs/runner.py) when CLUSTER_RUNNER == "thread".

    The thread starts lazily with the first request this process serves, so CLI commands
    (`flask db upgrade`, `flask worker`) and the reloader's watcher process never start it.
    Web processes that share a database with `flask worker` processes set CLUSTER_RUNNER=off
    (a thread per process would still be correct, thanks to the leases, just wasteful).
    """
    if app.config.get("CLUSTER_RUNNER", "off") != "thread":
        return
    import threading

    lock = threading.Lock()
    state: dict[str, Any] = {}

    @app.before_request
    def _start_runner_once() -> None:
        if "thread" in state:
            return
        with lock:
            if "thread" not in state:
                from deliberation.jobs import runner

                state["thread"], state["stop"] = runner.start_thread(app)
                app.extensions["hiroba_runner"] = state
                from app.mail import start_sender

                state["mail"] = start_sender(app)  # the mail sender runs beside it
                from deliberation.jobs import polis_imports

                state["imports"] = polis_imports.start_thread(app)  # and Pol.is uploads
