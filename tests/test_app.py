"""The factory, configuration, errors, security headers, CSRF, roles and language."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app import create_app
from deliberation.models import User


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    import app.config as config

    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", None)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production")


def test_database_url_selects_postgresql(monkeypatch, tmp_path):
    from app.config import database_url

    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@localhost/hiroba")
    assert database_url(str(tmp_path)) == "postgresql+psycopg://u:p@localhost/hiroba"
    monkeypatch.delenv("DATABASE_URL")
    assert database_url(str(tmp_path)).startswith("sqlite:///")


def test_home_page_in_japanese_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert '<html lang="ja">' in body


def test_language_follows_accept_language_and_switch(client):
    body = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in body
    response = client.post("/language?next=/privacy", data={"lang": "ja"})
    assert response.status_code == 303 and response.headers["Location"] == "/privacy"
    body = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="ja">' in body  # the session choice wins over the header


def test_language_switch_rejects_unknown_language(client):
    assert client.post("/language", data={"lang": "xx"}).status_code == 400


def test_language_choice_is_saved_on_the_account(client, db, login_as):
    user = login_as("citizen")
    client.post("/language", data={"lang": "en"})
    db.session.refresh(user)
    assert user.locale == "en"


@pytest.mark.parametrize("lang, text", [("en", "There is no page at this address."),
                                        ("ja", 'lang="ja"')])
def test_404_page_is_translated(client, lang, text):
    response = client.get("/no-such-page", headers={"Accept-Language": lang})
    assert response.status_code == 404
    assert text in response.get_data(as_text=True)


def test_errors_as_json_when_asked(client):
    response = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["error"]["status"] == 404


def test_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_no_inline_scripts_in_pages(client):
    body = client.get("/auth/register").get_data(as_text=True)
    assert "<script>" not in body and "onclick" not in body


def test_csrf_rejects_post_without_token(csrf_app, client, db):
    response = client.post("/auth/register", data={
        "email": "x@example.org", "display_name": "X", "kind": "resident",
        "password": "long enough password", "password2": "long enough password",
        "consent": "y"}, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "so nothing was saved" in html and 'href="/auth/register">Open the page again' in html
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_csrf_accepts_htmx_header_token(csrf_app, client):
    page = client.get("/").get_data(as_text=True)
    token = page.split('"X-CSRFToken": "')[1].split('"')[0]
    response = client.post("/language", data={"lang": "en"}, headers={"X-CSRFToken": token})
    assert response.status_code == 303


@pytest.mark.parametrize("role, status", [("citizen", 403), ("facilitator", 403),
                                          ("council", 403), ("admin", 200)])
def test_admin_route_needs_admin_role(client, login_as, role, status):
    login_as(role)
    assert client.get("/admin/users").status_code == status


def test_admin_route_sends_anonymous_to_login(client):
    response = client.get("/admin/users")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/auth/login")


def test_admin_changes_role(client, db, login_as, make_user):
    login_as("admin")
    target = make_user()
    response = client.post(f"/admin/users/{target.id}/role", data={"role": "council"})
    assert response.status_code == 303
    db.session.refresh(target)
    assert target.role == "council"
    assert client.post(f"/admin/users/{target.id}/role", data={"role": "king"}).status_code == 400


def test_privacy_page_uses_the_consent_notice(client):
    body = client.get("/privacy", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Email address and password" in body
    # one pair of brackets, as a Japanese heading has them (not （お知らせ（2026-12版））)
    body = client.get("/privacy", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "保存する個人データ（2026-12版のお知らせ）" in body


VOTE_IN_A_FRESH_PROCESS = """
import sys
from app import create_app
from deliberation.database import db
from tests import factories

app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": sys.argv[1]})
with app.app_context():
    db.create_all()
    round_ = factories.make_round(phase="voting", slug="lean")
    proposal_id = factories.make_proposal(round_).id
    client = factories.log_in(app.test_client(), factories.make_user())
page = client.get("/rounds/lean/vote")
assert page.status_code == 200, (page.status_code, page.get_data(as_text=True)[:300])
response = client.post("/rounds/lean/vote", data={"proposal_id": proposal_id, "value": "1"})
assert response.status_code == 303, response.status_code
assert client.get("/healthz").status_code == 200
print(" ".join(sorted(name for name in ("numpy", "scipy", "sklearn", "umap", "numba")
                      if name in sys.modules)))
"""


def test_the_web_path_does_not_load_the_clustering_libraries(tmp_path):
    """Web processes stay lean: NumPy, SciPy and scikit-learn load in the clustering runner,
    not for a page, a vote or a health check."""
    import subprocess
    import sys
    from pathlib import Path

    url = "sqlite:///" + str(tmp_path / "lean.sqlite3")
    result = subprocess.run([sys.executable, "-c", VOTE_IN_A_FRESH_PROCESS, url],
                            cwd=Path(__file__).resolve().parents[1], capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
