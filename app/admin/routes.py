"""Administration: accounts and roles (admin role only)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.admin import bp
from app.authz import admin_required
from app.htmx import render_page_or_fragment
from app.search_args import search_args
from deliberation.database import db
from deliberation.models import User
from deliberation.models.user import ROLES
from deliberation.services import accounts, search

USERS_PER_PAGE = 50


@bp.route("/users")
@admin_required
def users() -> Response:
    """Accounts, searchable by e-mail address or display name, 50 to a page."""
    args = search_args()
    query = sa.select(User).where(User.deleted_at.is_(None)).order_by(User.id)
    if args.terms:
        query = query.where(search.matches_all([User.email, User.display_name], args.terms))
    page = db.paginate(query, page=args.page, per_page=USERS_PER_PAGE, error_out=False)
    if args.page > 1 and args.page > page.pages:
        page = db.paginate(query, page=max(page.pages, 1), per_page=USERS_PER_PAGE, error_out=False)
    return render_page_or_fragment("admin/users.html", "admin/_users.html", results=page,
                                   roles=ROLES, q=args.q, query_error=args.error)


@bp.route("/users/<id:user_id>/role", methods=["POST"])
@admin_required
def set_role(user_id: int) -> Response:
    user = db.get_or_404(User, user_id)
    role = request.form.get("role", "")
    if role not in ROLES:
        abort(400)
    if user.id == current_user.id and role != "admin":
        flash(_("You cannot remove your own administrator role."), "error")
    else:
        accounts.set_role(user, role, actor=current_user)
        flash(_("Role changed."), "success")
    return redirect(url_for("admin.users"), code=303)
