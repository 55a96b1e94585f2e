"""The policy agenda (/agenda): public pages, council workflow, facilitator escalation."""

from flask import Blueprint

bp = Blueprint("agenda", __name__)

from app.agenda import routes  # noqa: E402,F401
