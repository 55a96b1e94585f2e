"""A live Hiroba server on loopback and a headless Chromium (Debian package) for e2e tests.

Never downloads a browser: uses /usr/bin/chromium-headless-shell, or /usr/bin/chromium where
only that is installed (skipped when neither is, failed in CI).
"""

from __future__ import annotations

import json
import os
import random
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa


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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fake_snapshot(round_id: int) -> None:
    """A snapshot written directly (the runner is off): planted groups from external ids."""
    from deliberation.database import db
    from deliberation.models import (
        ClusterSnapshot,
        Participant,
        Proposal,
        SnapshotGroup,
        SnapshotMembership,
        SnapshotProposalStat,
        Vote,
    )

    rng = random.Random(1)
    participants = db.session.scalars(
        sa.select(Participant).where(Participant.round_id == round_id)).all()
    proposals = db.session.scalars(sa.select(Proposal).where(Proposal.round_id == round_id)).all()
    group_of = {p.id: int(p.external_id.split("-")[1]) for p in participants if p.external_id}
    centres = [(-1.0, 0.5), (1.0, 0.6), (0.0, -1.0)]
    snap = ClusterSnapshot(
        round_id=round_id, method="pca", k=3, n_participants=len(participants),
        n_clustered=len(group_of), n_votes=0,
        statistics={
            "repness": {str(g): [{"proposal_id": proposals[g + 3].id, "direction": "agree",
                                  "p_success": 0.9}] for g in range(3)},
            "group_aware_consensus": {str(proposals[i].id): 0.8 - i * 0.05 for i in range(3)},
            "priorities": {str(p.id): 1.0 for p in proposals},
            # the bridging lens and where the rule holds (the agenda item shows both)
            "bridging": {str(p.id): {"intercept": 0.31, "factor": -0.04, "n": 20}
                         for p in proposals},
            "robustness": {"groupings": ["pca k=3", "pca k=2", "pca k=4"],
                           "holds": {str(p.id): ["pca k=3", "pca k=2"] for p in proposals}},
        })
    db.session.add(snap)
    db.session.flush()
    for g in range(3):
        db.session.add(SnapshotGroup(snapshot_id=snap.id, group_id=g,
                                     size=sum(1 for v in group_of.values() if v == g),
                                     center_x=centres[g][0], center_y=centres[g][1]))
    for pid, g in group_of.items():
        cx, cy = centres[g]
        db.session.add(SnapshotMembership(snapshot_id=snap.id, participant_id=pid, group_id=g,
                                          x=cx + rng.gauss(0, 0.3), y=cy + rng.gauss(0, 0.3)))
    counts: dict[tuple[int, int | None], list[int]] = {}
    for pid, proposal_id, value in db.session.execute(
            sa.select(Vote.participant_id, Vote.proposal_id, Vote.value)
            .where(Vote.round_id == round_id)):
        idx = {1: 0, -1: 1, 0: 2}[value]
        for key in ((proposal_id, None), (proposal_id, group_of.get(pid))):
            counts.setdefault(key, [0, 0, 0])[idx] += 1
        snap.n_votes += 1
    for (proposal_id, g), (a, d, p) in counts.items():
        db.session.add(SnapshotProposalStat(snapshot_id=snap.id, proposal_id=proposal_id,
                                            group_id=g, agree=a, disagree=d, passes=p))
    db.session.commit()


def _staff_and_agenda(round_id: int) -> int:
    """Facilitator and council accounts, and one agenda item (escalated by hand)."""
    from deliberation.engine import escalation
    from deliberation.models import Proposal
    from tests import factories

    users = {role: factories.make_user(role, email=email, password=STAFF_PASSWORD)
             for role, email in STAFF.items()}
    from deliberation.database import db

    proposal_id = db.session.scalar(sa.select(Proposal.id).where(
        Proposal.round_id == round_id, Proposal.status == "published").order_by(Proposal.id))
    item = escalation.escalate_manually(proposal_id, actor=users["facilitator"],
                                        reason="町民集会で話し合いました")
    return item.id


def _long_and_empty_rounds() -> None:
    from deliberation.services.proposals import MAX_LENGTH
    from tests import factories

    sentence = ("駅前の商店街に、子どもからお年寄りまで誰でも気軽に立ち寄れる休憩所を設けてほしい"
                "です。ベンチと日よけ、冷たい水の出る給水機、車いすでも使えるトイレがあると、"
                "買い物のついでに休めます。")
    long_round = factories.make_round(
        slug=LONG_SLUG, phase="voting",
        title="駅前のまちづくりについて、みなさんのご意見をお聞かせください（長いタイトルの例）")
    factories.make_proposal(long_round, (sentence * 5)[:MAX_LENGTH])
    factories.make_round(slug=EMPTY_SLUG, phase="voting", title="まだ提案のないラウンド")


# axe-core as the browser tests' servers serve it: a script the page loads from its own
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


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    from werkzeug.serving import make_server

    from app import create_app
    from deliberation.database import db
    from deliberation.demo import seed_synthetic_round
    from tests.conftest import compile_catalogs

    compile_catalogs()
    path = tmp_path_factory.mktemp("e2e") / "e2e.sqlite3"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                      "WTF_CSRF_ENABLED": True, "RATELIMIT_ENABLED": False})
    with app.app_context():
        db.create_all()
        voting = seed_synthetic_round(SLUG, participants_per_group=8)
        voting.phase = "collecting"
        results_round = seed_synthetic_round(RESULTS_SLUG, participants_per_group=30)
        results_round.title = "結果を見るためのデモラウンド"
        db.session.commit()
        _fake_snapshot(results_round.id)
        escalation_id = _staff_and_agenda(results_round.id)
        _long_and_empty_rounds()
    port = _free_port()
    server = make_server("127.0.0.1", port, for_the_browser(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}", slug=SLUG, results_slug=RESULTS_SLUG,
                         escalation_id=escalation_id, app=app)
    finally:
        server.shutdown()
        thread.join(5)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing; CI must install the Debian chromium-headless-shell package")
        pytest.skip(f"{CHROMIUM} not available")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


_axe_runs: list[dict] = []

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
    _axe_runs.append({
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


@pytest.fixture(scope="session", autouse=True)
def a11y_results() -> Iterator[None]:
    """Write the session's axe runs to ``A11Y_RESULTS`` (nothing when none ran)."""
    started = datetime.now(UTC)
    yield
    if not _axe_runs:
        return
    A11Y_RESULTS.parent.mkdir(parents=True, exist_ok=True)
    A11Y_RESULTS.write_text(json.dumps({
        "tool": "axe-core", "axe_version": _axe_runs[0]["axe_version"],
        "browser": "Chromium (headless)",
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "runs": _axe_runs,
    }, ensure_ascii=False, indent=1), encoding="utf-8")


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
