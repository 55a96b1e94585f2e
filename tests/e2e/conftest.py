"""A live Hiroba server on loopback and a headless Chromium (Debian package) for e2e tests.

Never downloads a browser: uses /usr/bin/chromium-headless-shell, or /usr/bin/chromium where
only that is installed (skipped when neither is, failed in CI).
"""

from __future__ import annotations

import json
import os
import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from tests.e2e.browsing import (
    A11Y_RESULTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    EMPTY_SLUG,
    LONG_SLUG,
    RESULTS_SLUG,
    SLUG,
    STAFF,
    STAFF_PASSWORD,
    LiveServer,
    axe_runs,
    for_the_browser,
    free_port,
)


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
    port = free_port()
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


@pytest.fixture(scope="session", autouse=True)
def a11y_results() -> Iterator[None]:
    """Write the session's axe runs to ``A11Y_RESULTS`` (nothing when none ran)."""
    started = datetime.now(UTC)
    yield
    if not axe_runs:
        return
    A11Y_RESULTS.parent.mkdir(parents=True, exist_ok=True)
    A11Y_RESULTS.write_text(json.dumps({
        "tool": "axe-core", "axe_version": axe_runs[0]["axe_version"],
        "browser": "Chromium (headless)",
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "runs": axe_runs,
    }, ensure_ascii=False, indent=1), encoding="utf-8")
