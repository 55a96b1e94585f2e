"""`flask demo seed`: the Japanese demo town (three plan layers, simulated residents and
関係人口, votes clustered and escalated by the real engine, the council's answers)."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from deliberation.demo_town import LAYERS, PLANS
from deliberation.models import (
    AuditEntry,
    Escalation,
    OfficialResponse,
    Participant,
    Proposal,
    Round,
    User,
    Vote,
)
from deliberation.models.snapshot import latest_snapshot
from deliberation.services import agenda

pytestmark = pytest.mark.slow  # each test seeds the whole demo town (about 18,000 votes)

SLUGS = [layer.slug for layer in LAYERS]


def _counts(db) -> dict[str, int]:
    return {model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Round, Proposal, Participant, Vote, User, Escalation, AuditEntry)}


def _town_rounds(db) -> list[Round]:
    return list(db.session.scalars(sa.select(Round).where(Round.slug.in_(SLUGS))))


def test_seed_builds_the_town_once(runner, db) -> None:
    first = runner.invoke(args=["demo", "seed", "--no-polis"])
    assert first.exit_code == 0, first.output
    for slug in SLUGS:
        assert f"Demo round “{slug}”: created" in first.output
    assert "  Council staff: " in first.output  # the role in words, not its stored code
    rounds = _town_rounds(db)
    assert len(rounds) == 3
    ids = [r.id for r in rounds]

    proposals = db.session.scalars(sa.select(Proposal).where(Proposal.round_id.in_(ids))).all()
    assert 40 <= len(proposals) <= 80
    assert all(re.search(r"[ぁ-んァ-ン一-龥]", p.text) for p in proposals)
    waiting = [p for p in proposals if p.status == "pending"]
    assert 1 <= len(waiting) <= 5
    assert not [p for p in proposals if p.is_meta]

    votes = db.session.scalar(
        sa.select(sa.func.count()).select_from(Vote).where(Vote.round_id.in_(ids)))
    assert votes >= 5000
    kinds = set(db.session.scalars(sa.select(Participant.kind).where(
        Participant.round_id.in_(ids))))
    assert {"resident", "e_citizen"} <= kinds
    verified = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(Participant.user_id)))
        .join(User, User.id == Participant.user_id)
        .where(Participant.round_id.in_(ids), User.verification_level == "resident_verified"))
    assert verified >= 10

    for round_ in rounds:  # the clustering found opinion groups in every layer
        snapshot = latest_snapshot(round_.id)
        assert snapshot is not None and snapshot.k >= 2, round_.slug

    escalations = db.session.scalars(
        sa.select(Escalation).where(Escalation.round_id.in_(ids))).all()
    # The engine decided: every item automatic, with the snapshot as evidence.
    assert escalations and all(e.kind == "automatic" and e.snapshot_id for e in escalations)
    on_agenda = {e.proposal.text for e in escalations}
    assert not [e for e in escalations if e.proposal.is_meta]
    # Proposals every latent group supports reach the agenda; divisive ones do not.
    for layer in LAYERS:
        for idea in layer.ideas:
            if idea.answer is not None:
                assert idea.text in on_agenda, idea.text
            if min(idea.support) < 0.5 or idea.pending:
                assert idea.text not in on_agenda, idea.text

    # An item the story dates in the past was decided on groups drawn by then: its page
    # never says the votes "as they stood" on a later day than the escalation.
    for e in escalations:
        assert datetime.fromisoformat(e.evidence["snapshot"]["created_at"]) <= e.escalated_at
    # Paper sheets were typed in during office hours (the facilitator's list showed them
    # entered at 3:43 and 1:10 at night).
    sheets = db.session.scalars(sa.select(Participant.created_at).where(
        Participant.round_id.in_(ids), Participant.source == "assisted")).all()
    tokyo = ZoneInfo("Asia/Tokyo")
    assert sheets and all(9 <= t.astimezone(tokyo).hour < 17 for t in sheets)

    # The story never moves a deadline: no item says 当初の期限は… (it gave a date after
    # the deadline in force, counted from the day of the seed).
    assert not [e.proposal.text for e in escalations if agenda.first_due_at(e)]
    answered = [e.response for e in escalations if e.response.status == "answered"]
    assert answered and all(r.outcome and r.reasons and r.answer and r.plan_layer
                            for r in answered)
    assert {r.plan_layer for r in answered} == {"vision", "management_guideline",
                                                "sector_plan"}
    overdue = [item for slug in SLUGS for item in agenda.list_items(round_slug=slug,
                                                                   status="overdue")]
    assert len(overdue) == 1
    assert overdue[0].escalation.round.slug == PLANS.slug

    before = _counts(db)
    statuses = dict(db.session.execute(
        sa.select(OfficialResponse.id, OfficialResponse.status)).tuples().all())
    again = runner.invoke(args=["demo", "seed", "--no-polis"])
    assert again.exit_code == 0, again.output
    for slug in SLUGS:
        assert f"Demo round “{slug}”: already present" in again.output
    assert _counts(db) == before
    assert dict(db.session.execute(
        sa.select(OfficialResponse.id, OfficialResponse.status)).tuples().all()) == statuses


def test_home_lists_the_town_first_and_its_pages_render(runner, client, db,
                                                        make_round) -> None:
    make_round(slug="older-import", title="An older imported round", phase="voting")
    assert runner.invoke(args=["demo", "seed", "--no-polis"]).exit_code == 0
    html = client.get("/").get_data(as_text=True)
    first_town = html.index(PLANS.title)
    assert first_town < html.index("An older imported round")
    assert first_town == min(html.index(layer.title) for layer in LAYERS)

    results = client.get(f"/rounds/{PLANS.slug}/results").get_data(as_text=True)
    assert "グループ1" in results and "グループ2" in results
    page = client.get(f"/rounds/{PLANS.slug}").get_data(as_text=True)
    assert "架空の町" in page
    overdue = client.get(f"/agenda/?round={PLANS.slug}&status=overdue")
    assert overdue.status_code == 200
    assert "防災無線" in overdue.get_data(as_text=True)
    assert client.get("/").status_code == 200


def test_a_second_seed_keeps_what_people_did_in_the_demo(runner, db) -> None:
    """The council answers the overdue item while trying the demo; `make run` again keeps
    the answer (the story is played once)."""
    assert runner.invoke(args=["demo", "seed", "--no-polis"]).exit_code == 0
    council = db.session.scalar(sa.select(User).where(User.role == "council"))
    item = agenda.list_items(round_slug=PLANS.slug, status="overdue")[0]
    agenda.update_response(item.escalation.id, actor=council, status="answered",
                           outcome="adopted", reasons="費用が小さいため。",
                           answer="来月から配信します。", department="総務課",
                           plan_theme="防災", plan_layer="sector_plan", due_at=None)
    again = runner.invoke(args=["demo", "seed", "--no-polis"])
    assert again.exit_code == 0, again.output
    response = db.session.get(OfficialResponse, item.escalation.response.id)
    db.session.refresh(response)
    assert response.status == "answered" and response.answer == "来月から配信します。"
    assert agenda.list_items(round_slug=PLANS.slug, status="overdue") == []


def test_the_demo_names_its_town_unless_someone_did(app, runner, client, db) -> None:
    from deliberation.demo import DEMO_TOWN_SETTINGS
    from deliberation.services import town

    assert runner.invoke(args=["demo", "seed", "--no-polis"]).exit_code == 0
    assert town.overrides() == DEMO_TOWN_SETTINGS
    html = client.get("/").get_data(as_text=True)
    assert "しおさい町（デモ）" in html and "架空の町です" in html

    admin = db.session.scalar(sa.select(User).where(User.email == "admin@example.org"))
    town.update({"name": "みなと市"}, actor=admin)
    assert runner.invoke(args=["demo", "seed", "--no-polis"]).exit_code == 0
    assert town.overrides() == {"name": "みなと市"}


def test_a_configured_town_name_is_not_replaced_by_the_demo(app, runner, db,
                                                            monkeypatch) -> None:
    from deliberation.services import town

    monkeypatch.setitem(app.config, "TOWN_NAME", "設定された町")
    assert runner.invoke(args=["demo", "seed", "--no-polis"]).exit_code == 0
    assert town.overrides() == {}


def _votes_by_person(db) -> list[tuple]:
    """Every person's answers in every town round, as a sorted list (ids left out)."""
    rows = db.session.execute(
        sa.select(Round.slug, Vote.participant_id, Proposal.text, Vote.value)
        .join(Proposal, Proposal.id == Vote.proposal_id).join(Round, Round.id == Vote.round_id)
        .where(Round.slug.in_(SLUGS))).all()
    people: dict = {}
    for slug, person, text, value in rows:
        people.setdefault((slug, person), []).append((text, value))
    return sorted((slug, tuple(sorted(answers))) for (slug, _), answers in people.items())


def test_the_town_votes_the_same_whatever_the_hour_it_is_seeded(runner, db,
                                                                 monkeypatch) -> None:
    """Paper sheets are moved into office hours, which reorders the arrivals by the hour of
    the seed; the votes drawn must not follow that order (at some hours a divisive idea
    reached the agenda)."""
    import deliberation.demo_town as demo_town

    seen = []
    for hour in ("2026-11-30T18:45:00+00:00", "2026-11-30T19:47:10+00:00"):
        monkeypatch.setattr(demo_town, "utcnow", lambda hour=hour: datetime.fromisoformat(hour))
        assert runner.invoke(args=["demo", "seed", "--no-polis"]).exit_code == 0
        seen.append(_votes_by_person(db))
        for round_ in _town_rounds(db):  # its people, proposals and votes go with it
            db.session.delete(round_)
        db.session.commit()
    assert seen[0] == seen[1]
