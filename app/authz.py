"""Role checks for views: anonymous users are sent to log in, wrong roles get 403."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user, login_required


def role_required(*roles: str) -> Callable:
    """Allow the given roles (admins always pass)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles  # read by the authorization-matrix test
        return wrapped

    return decorator


facilitator_required = role_required("facilitator")
council_required = role_required("council")
admin_required = role_required("admin")
