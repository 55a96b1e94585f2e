"""Facilitator area (/facilitate): rounds, moderation, imports, dashboard."""

from flask import Blueprint

bp = Blueprint("facilitate", __name__)

from app.facilitate import reviews, routes  # noqa: E402,F401
