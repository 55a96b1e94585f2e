"""What the browser tests share: the browser binary, the window sizes, the live server's
shape, logging in, the pages each role walks, and the checks every visited page gets
(axe-core, nothing wider than the window). The fixtures that start the server and the
browser are in conftest.py."""

from __future__ import annotations

import os
import random
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


def _chromium() -> Path:
    """The browser binary: $CHROMIUM, else Debian's headless shell, else the full browser.

    The headless shell is the build Playwright itself runs headless tests with: the same
    Blink and V8 without the desktop browser's window and UI layers, so the same pages and
    axe runs cost about 30 % less CPU (bench/README.md, "make test")."""
    if os.environ.get("CHROMIUM"):
        return Path(os.environ["CHROMIUM"])
    shell = Path("/usr/bin/chromium-headless-shell")
    return shell if shell.exists() else Path("/usr/bin/chromium")


CHROMIUM = _chromium()
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
# Every axe run of the session, written here at its end: the accessibility statement is
# generated from it (`flask a11y statement`, README "Accessibility statement").
A11Y_RESULTS = Path(os.environ.get("HIROBA_A11Y_RESULTS")
                    or Path(__file__).resolve().parents[2] / "test-artifacts" / "a11y-results.json")
SLUG = "e2e-town"
RESULTS_SLUG = "e2e-results"
LONG_SLUG = "e2e-long"  # voting; its first proposal is as long as a proposal can be
EMPTY_SLUG = "e2e-empty"  # voting, no proposal yet


STAFF_PASSWORD = "staff password 123"
STAFF = {"facilitator": "facilitator@e2e.example.org", "council": "council@e2e.example.org",
         "admin": "admin@e2e.example.org"}


@dataclass
class LiveServer:
    url: str
    slug: str
    results_slug: str
    escalation_id: int = 0
    long_slug: str = LONG_SLUG
    empty_slug: str = EMPTY_SLUG
    app: Any = None  # the served app, for accounts made without the pages (sign_in_new)


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# origin (the pages' Content-Security-Policy allows that) and the browser keeps, so every
# page after the first in a browser context takes it, compiled, from the cache instead of
# receiving 650 kB of script text over the DevTools protocol.
AXE_URL_PATH = "/__e2e__/axe.min.js"


def for_the_browser(app):
    """The app as the browser tests' servers run it: axe-core at :data:`AXE_URL_PATH`, and
    each response handed to werkzeug as one closed, buffered body.

    When a browser drops a connection mid-response (a favicon fetch cancelled by the next
    navigation), werkzeug's development server never calls the response's ``close()``, and
    the open static file surfaces later as a ResourceWarning in whichever test runs then.
    Production runs under gunicorn, which closes it.
    """
    axe_script = AXE.read_bytes()

    def serve(environ, start_response):
        if environ.get("PATH_INFO") == AXE_URL_PATH:
            start_response("200 OK", [("Content-Type", "text/javascript; charset=utf-8"),
                                      ("Content-Length", str(len(axe_script))),
                                      ("Cache-Control", "public, max-age=86400, immutable")])
            return [axe_script]
        response = app(environ, start_response)
        try:
            return [b"".join(response)]
        finally:
            if hasattr(response, "close"):
                response.close()
    return serve


# Every axe run of the session, for the accessibility statement (conftest.py writes them out).
axe_runs: list[dict] = []

# What axe reports, trimmed to what the statement shows (no page content beyond titles).
_AXE_SCRIPT = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  const easy = document.querySelector('.reading-switch [aria-pressed=true]');
  return {version: axe.version, title: document.title, lang: document.documentElement.lang,
          reading: easy ? 'easy' : document.querySelector('ruby') ? 'furigana' : 'standard',
          width: window.innerWidth, height: window.innerHeight,
          passes: r.passes.length, incomplete: r.incomplete.length,
          violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.length, targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))};
}"""


# Moderate findings that were fixed everywhere and must not come back: two landmarks with
# the same role and name leave a screen reader's landmark list ambiguous.
ALWAYS_FAIL = frozenset({"landmark-unique"})


def axe(page) -> list[dict]:
    """Run axe-core on the page; record the run for the accessibility statement and return
    the serious and critical violations and those of :data:`ALWAYS_FAIL` (tests expect
    none)."""
    url = urlsplit(page.url)
    page.add_script_tag(url=f"{url.scheme}://{url.netloc}{AXE_URL_PATH}")
    result = page.evaluate(_AXE_SCRIPT)
    axe_runs.append({
        "path": url.path, "title": result["title"], "lang": result["lang"],
        "reading": result["reading"],
        "viewport": f"{result['width']}x{result['height']}",
        "passes": result["passes"], "incomplete": result["incomplete"],
        "violations": [{k: v[k] for k in ("id", "impact", "help", "nodes")}
                       for v in result["violations"]],
        "axe_version": result["version"],
    })
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": v["targets"]}
            for v in result["violations"]
            if v["impact"] in ("serious", "critical") or v["id"] in ALWAYS_FAIL]


_WIDER_THAN_THE_WINDOW = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > innerWidth + 1)
  .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + e.textContent.slice(0, 40))"""


def page_problems(page, width: int | None = None) -> dict:
    """What the browser tests check on every page they visit, as it stands: nothing that
    :func:`axe` fails on and, given the window's ``width``, nothing wider than it (the first
    elements that stick out are named). Empty when the page is fine; tests gather the
    results by page name and assert the gathering is empty, so one run names every page
    with a problem."""
    found: dict = {}
    if width is not None:
        scroll_width = page.evaluate("document.scrollingElement.scrollWidth")
        if scroll_width > width:
            found["width"] = scroll_width
            found["wider"] = page.evaluate(_WIDER_THAN_THE_WINDOW)
    violations = axe(page)
    if violations:
        found["axe"] = violations
    return found


# Screenshots are for people to look at, not checks, and a full-page capture costs Chromium
# a good part of what an axe run does: `make test` leaves them out (HIROBA_SCREENSHOTS=0);
# running the browser tests directly saves them.
SCREENSHOTS = os.environ.get("HIROBA_SCREENSHOTS", "1") != "0"


def screenshot(page, name: str) -> None:
    if not SCREENSHOTS:
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


_counter = iter(range(1, 10_000))


def register(page, server: LiveServer, next_path: str = "/") -> str:
    """Register a new account with consent through the real form, then log in with it
    (registration itself never logs in: it answers the same for a taken address)."""
    email = f"e2e{next(_counter)}-{random.randrange(10**6)}@example.org"
    page.goto(f"{server.url}/auth/register?next={next_path}")
    page.fill("input[name=email]", email)
    page.fill("input[name=display_name]", "E2E tester")
    page.fill("input[name=password]", "correct horse battery")
    page.fill("input[name=password2]", "correct horse battery")
    page.check("input[name=consent]")
    with page.expect_navigation():
        page.click("form.stack button[type=submit]")
    assert "/auth/check-mail" in page.url
    login(page, server, email, next_path)
    return email


def sign_in_new(page, server: LiveServer, next_path: str = "/") -> str:
    """A new citizen account, made by the service the registration form calls, then logged
    in through the login form; for tests about what a citizen sees and does, not about
    registering (a registration through the form costs the browser twice a login).
    Registration itself is walked through the form by :func:`register` (the journeys) and
    the mail tests."""
    from deliberation.services import accounts

    email = f"e2e{next(_counter)}-{random.randrange(10**6)}@example.org"
    with server.app.app_context():
        accounts.register(email=email, password="correct horse battery",
                          display_name="E2E tester", kind="resident",
                          consent_version=server.app.config["CONSENT_VERSION"])
    login(page, server, email, next_path)
    return email


def login(page, server: LiveServer, email: str, next_path: str = "/",
          password: str = "correct horse battery") -> None:  # noqa: S107
    page.goto(f"{server.url}/auth/login?next={next_path}")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form.stack button[type=submit]")


def login_staff(page, server: LiveServer, role: str) -> None:
    """Log in through the login form as the live server's facilitator, council or admin."""
    page.goto(f"{server.url}/auth/login")
    page.fill("input[name=email]", STAFF[role])
    page.fill("input[name=password]", STAFF_PASSWORD)
    with page.expect_navigation():
        page.click("form.stack button[type=submit]")


def pages_by_role(server: LiveServer) -> dict[str, dict[str, str]]:
    """The pages each role walks (anonymous, citizen and the staff roles), by name."""
    slug, results, item = server.slug, server.results_slug, server.escalation_id
    return {
        "anonymous": {
            "home": "/", "round": f"/rounds/{results}", "results": f"/rounds/{results}/results",
            "proposals": f"/rounds/{results}/proposals", "agenda": "/agenda/",
            "item": f"/agenda/items/{item}", "privacy": "/privacy", "login": "/auth/login",
            "register": "/auth/register", "reset": "/auth/reset", "how-it-works": "/how-it-works",
            "reading": "/reading",
            "empty-round": f"/rounds/{server.empty_slug}", "long-round": f"/rounds/{server.long_slug}",
        },
        "citizen": {
            "vote": f"/rounds/{server.long_slug}/vote", "empty-vote": f"/rounds/{server.empty_slug}/vote",
            "propose": f"/rounds/{slug}/propose", "mine": f"/rounds/{slug}/mine",
            "account": "/account/", "my-data": "/account/data", "email": "/account/email",
            "verification": "/account/verification", "password": "/auth/password",
        },
        "facilitator": {
            "rounds": "/facilitate/", "new-round": "/facilitate/rounds/new",
            "round": f"/facilitate/rounds/{results}", "edit": f"/facilitate/rounds/{results}/edit",
            "moderation": f"/facilitate/rounds/{results}/moderation",
            "seeds": f"/facilitate/rounds/{results}/seeds",
            "assisted": f"/facilitate/rounds/{results}/assisted",
            "round-audit": f"/facilitate/rounds/{results}/audit",
            "round-dashboard": f"/facilitate/rounds/{results}/dashboard",
            "present": f"/facilitate/rounds/{results}/present", "import": "/facilitate/import",
            "workshops": f"/facilitate/rounds/{results}/workshops",
            "audit": "/facilitate/audit", "dashboard": "/facilitate/dashboard",
            "escalate": f"/agenda/manage/rounds/{results}/escalate",
            "withdraw": f"/agenda/manage/items/{item}/withdraw",
        },
        "council": {
            "council": "/agenda/council/", "council-item": f"/agenda/council/items/{item}",
            "dossier": f"/agenda/council/items/{item}/dossier",
            "round-dossier": f"/agenda/council/rounds/{results}/dossier",
            "verify": "/verify/", "postal-codes": "/verify/postal-codes",
        },
        "admin": {"users": "/admin/users", "mail": "/admin/mail"},
    }
