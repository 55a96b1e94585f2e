"""Facilitator area (/facilitate): rounds, moderation, imports, dashboard."""

from flask import Blueprint

bp = Blueprint("facilitate", __name__)

from app.facilitate import routes  # noqa: E402,F401
