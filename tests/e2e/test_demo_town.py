"""The Japanese demo as a newcomer sees it after `make run`: the town's rounds first on the
home page, its results and its answered agenda item, on a phone and a desktop, in Japanese,
no wider than the screen and with nothing serious for axe."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.e2e.browsing import DESKTOP, PHONE, for_the_browser, free_port, page_problems, screenshot

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A server on a database seeded as `flask demo seed --no-polis` seeds it; the URL and
    the id of an agenda item the council has answered."""
    from werkzeug.serving import make_server

    from app import create_app
    from deliberation.database import db
    from deliberation.demo import seed_demo
    from deliberation.models import Escalation, OfficialResponse
    from tests.conftest import compile_catalogs

    compile_catalogs()
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                      "WTF_CSRF_ENABLED": True, "RATELIMIT_ENABLED": False})
    with app.app_context():
        db.create_all()
        seed_demo(app.config["CONSENT_VERSION"], None)
        answered = db.session.scalar(
            sa.select(Escalation.id).join(OfficialResponse)
            .where(OfficialResponse.status == "answered").order_by(Escalation.id))
    server = make_server("127.0.0.1", free_port(), for_the_browser(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", answered
    finally:
        server.shutdown()
        thread.join(5)
        with app.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("viewport,suffix", [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_demo_town_first_and_readable(browser, demo_server, viewport, suffix) -> None:
    from deliberation.demo_town import PLANS

    url, answered = demo_server
    context = browser.new_context(locale="ja-JP", viewport=viewport, bypass_csp=True)  # axe
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto(url + "/")
        assert page.locator("main li.card h3 a").first.inner_text() == PLANS.title
        pages = {
            "home": "/",
            "round": f"/rounds/{PLANS.slug}",
            "results": f"/rounds/{PLANS.slug}/results",
            "agenda": "/agenda/",
            "answered": f"/agenda/items/{answered}",
        }
        for name, path in pages.items():
            page.goto(url + path)
            assert page.locator("html").get_attribute("lang") == "ja"
            problems = page_problems(page, viewport["width"])
            assert not problems, (name, problems)
            screenshot(page, f"demo-town-{suffix}-{name}")
        page.goto(f"{url}/rounds/{PLANS.slug}/results")
        assert page.get_by_text("グループ1").first.is_visible()
        page.goto(f"{url}/agenda/items/{answered}")
        assert page.get_by_text("回答済み").first.is_visible()
    finally:
        context.close()
