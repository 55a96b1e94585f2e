"""Command line: `flask users ...`, `flask demo seed`, `flask translate ...`."""

from __future__ import annotations

import os
import subprocess
import sys
from http import HTTPStatus
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from werkzeug.serving import WSGIRequestHandler, run_simple

from app.refusal_pages import WORDS, refusal_response
from app.template_helpers import KIND_LABELS, ROLE_LABELS
from app.terminal import (
    Refused,
    TerminalCommand,
    TerminalGroup,
    in_terminal_language,
    running_app,
)
from deliberation.database import db
from deliberation.errors import DomainError
from deliberation.models import User
from deliberation.models.user import PARTICIPANT_KINDS, ROLES
from deliberation.services import accounts

users = TerminalGroup("users", help=_l("Manage accounts."))
demo = TerminalGroup("demo", help=_l("Demo data for trying Hiroba out."))
translate = TerminalGroup("translate", help=_l("Translation catalogs (pybabel)."))

ROOT = Path(__file__).resolve().parents[1]


@users.command("create", help=_l(
    "Create an account, e.g. a staff account: --role facilitator|council|admin."))
@click.option("--email", required=True, help=_l("The account's email address."))
@click.option("--role", type=click.Choice(ROLES), default="citizen", show_default=True,
              help=_l("What the account may do."))
@click.option("--kind", type=click.Choice(PARTICIPANT_KINDS), default="resident",
              show_default=True,
              help=_l("Relation to the town."))
@click.option("--name", "display_name", default=None,
              help=_l("Display name (default: the email)."))
@click.password_option(envvar="HIROBA_PASSWORD", help=_l("Or set HIROBA_PASSWORD."))
@in_terminal_language
def create_user(email: str, role: str, kind: str, display_name: str | None, password: str) -> None:
    try:
        user = accounts.register(
            email=email, password=password, display_name=display_name or email.split("@")[0],
            kind=kind, role=role, consent_version=current_app.config["CONSENT_VERSION"],
        )
    except DomainError as error:
        raise Refused.because(error) from None
    click.echo(gettext("Created the account %(email)s (%(role)s).", email=user.email,
                       role=ROLE_LABELS[user.role]))


@users.command("set-role", help=_l("Change an account's role."))
@click.argument("email")
@click.argument("role", type=click.Choice(ROLES))
@in_terminal_language
def set_role(email: str, role: str) -> None:
    user = accounts.find_by_email(email)
    if user is None:
        raise Refused(gettext("There is no account with the email address %(email)s.",
                              email=email))
    accounts.set_role(user, role, actor=None)
    click.echo(gettext("%(email)s now has the role %(role)s.", email=user.email,
                       role=ROLE_LABELS[role]))


@users.command("list", help=_l("List accounts (email, role, kind)."))
@in_terminal_language
def list_users() -> None:
    deleted = gettext("(deleted)")
    for user in db.session.scalars(sa.select(User).order_by(User.id)):
        click.echo(f"{user.id}\t{user.email or deleted}\t{ROLE_LABELS[user.role]}\t"
                   f"{KIND_LABELS[user.kind]}")


@demo.command("seed", help=_l(
    "Create demo accounts, the Japanese demo town and the vTaiwan import (idempotent; "
    "not in production)."))
@click.option("--polis-dir", type=click.Path(path_type=Path), default=None,
              help=_l("Pol.is export to import as a second demo "
                      "(default: ../shared/datasets/polis/vtaiwan.uberx)."))
@click.option("--no-polis", is_flag=True, help=_l("Only the Japanese town, no Pol.is import."))
@in_terminal_language
def seed(polis_dir: Path | None, no_polis: bool) -> None:
    from deliberation.demo import DEMO_PASSWORD, seed_demo

    if current_app.config["ENVIRONMENT"] == "production":
        # The demo accounts, an administrator among them, share a published password.
        raise Refused(gettext(
            "flask demo seed creates accounts with a published password and does not run "
            "with HIROBA_ENV=production."))

    if polis_dir is None and not no_polis:
        polis_dir = Path(current_app.config["POLIS_DATASETS"]) / "vtaiwan.uberx"
    result = seed_demo(current_app.config["CONSENT_VERSION"], None if no_polis else polis_dir,
                       name_town=not current_app.config["TOWN_NAME"])
    for slug, created in result.rounds:
        click.echo(gettext("Demo round “%(slug)s”: created", slug=slug) if created
                   else gettext("Demo round “%(slug)s”: already present", slug=slug))
    click.echo(gettext("Demo accounts (password: %(password)s):", password=DEMO_PASSWORD))
    for email, role in result.accounts:
        click.echo(f"  {ROLE_LABELS[role]}: {email}")


def _pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True, cwd=ROOT)


@translate.command("extract", help=_l("Extract messages and update the catalogs."))
def extract() -> None:
    # No source locations and sorted entries: branches that add messages then merge
    # without conflicts (see .gitattributes for the catalogs' merge driver).
    _pybabel("extract", "-F", "babel.cfg", "-k", "_l", "--ignore-dirs=.* node_modules",
             "--no-location", "--sort-output", "-o", "messages.pot", ".")
    _pybabel("update", "-i", "messages.pot", "-d", "app/translations", "--no-fuzzy-matching")
    os.remove(ROOT / "messages.pot")


@translate.command("compile", help=_l("Compile the catalogs (.po -> .mo)."))
def compile_catalogs() -> None:
    _pybabel("compile", "-d", "app/translations")


class _QuietRequestHandler(WSGIRequestHandler):
    def version_string(self) -> str:
        return "Hiroba"  # not the server's and Python's versions

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        # The standard library refuses a request line over 64 KiB or headers too large
        # before the app sees them, with a bare English page: send the app's page instead.
        if code not in WORDS:
            super().send_error(code, message, explain)
            return
        self.log_error("%s: %s", code, message or HTTPStatus(code).phrase)
        self.close_connection = True
        self.wfile.write(refusal_response(HTTPStatus(code)))


@click.command("serve", cls=TerminalCommand, help=_l(
    "Serve the app for local use (`make run`), like `flask run` without the reloader and "
    "without Werkzeug's and Python's versions in the Server header."))
@click.option("--host", default="127.0.0.1", show_default=True,
              help=_l("The address to listen on."))
@click.option("--port", default=5000, show_default=True, type=int,
              help=_l("The port to listen on."))
@in_terminal_language
def serve(host: str, port: int) -> None:
    click.echo(gettext("Serving Hiroba on %(url)s (Ctrl+C to stop)",
                       url=f"http://{host}:{port}"))
    run_simple(host, port, running_app(), threaded=True, request_handler=_QuietRequestHandler)


def init_app(app: Flask) -> None:
    app.cli.add_command(serve)
    app.cli.add_command(users)
    app.cli.add_command(demo)
    app.cli.add_command(translate)
    from app.mail import mail_cli

    app.cli.add_command(mail_cli)
    from app import backup

    backup.init_app(app)
    from app.facilitate.cli import polis

    app.cli.add_command(polis)
    from app.agenda.cli import agenda, cluster

    app.cli.add_command(cluster)
    app.cli.add_command(agenda)
    from app import worker

    worker.init_app(app)
