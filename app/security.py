"""Security headers for every response (CSP without inline scripts or eval), and no
caching of personal and staff pages."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_login import current_user

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    return response


# Pages about one person or for staff. Any page seen while logged in is personal too (it
# names the account), so a shared computer's or a proxy's cache must not keep it either.
PRIVATE_PREFIXES = ("/account", "/auth", "/admin", "/facilitate", "/agenda/council",
                    "/agenda/manage")


# The same file for everybody, logged in or not.
PUBLIC_FILES = ("static", "main.favicon", "main.town_logo")


def is_private_page() -> bool:
    if request.endpoint in PUBLIC_FILES:
        return False
    path = request.path
    if any(path == prefix or path.startswith(prefix + "/") for prefix in PRIVATE_PREFIXES):
        return True
    return current_user.is_authenticated


def no_store_for_private_pages(response: Response) -> Response:
    if is_private_page():
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
    app.after_request(no_store_for_private_pages)
    if app.config.get("SESSION_COOKIE_SECURE"):

        @app.after_request
        def hsts(response: Response) -> Response:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
            return response
