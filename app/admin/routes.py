"""Administration: accounts and roles (admin role only)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.admin import bp
from app.authz import admin_required
from deliberation.database import db
from deliberation.models import User
from deliberation.models.user import ROLES
from deliberation.services import accounts


@bp.route("/users")
@admin_required
def users() -> str:
    page = db.paginate(sa.select(User).where(User.deleted_at.is_(None)).order_by(User.id),
                       per_page=50)
    return render_template("admin/users.html", page=page, roles=ROLES)


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
