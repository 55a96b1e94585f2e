"""Assisted participation, presentation view and engagement dashboard."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from deliberation.models import (
    ClusterSnapshot,
    Participant,
    SnapshotGroup,
    Vote,
    VoteEvent,
    utcnow,
)
from tests import factories
from tests.facilitate.conftest import EN


def test_assisted_participant_and_votes(client, facilitator, db) -> None:
    round_ = factories.make_round(slug="a1", phase="voting")
    p1 = factories.make_proposal(round_, "One")
    p2 = factories.make_proposal(round_, "Two")
    factories.make_proposal(round_, "Hidden", status="pending")
    response = client.post("/facilitate/rounds/a1/assisted",
                           data={"label": "Workshop 2026-11-20 #3", "kind": "resident"})
    assert response.status_code == 303
    participant = db.session.scalar(sa.select(Participant))
    assert participant.source == "assisted" and participant.user_id is None
    url = f"/facilitate/rounds/a1/assisted/{participant.id}"
    page = client.get(url, headers=EN).get_data(as_text=True)
    assert "One" in page and "Hidden" not in page
    assert client.post(url, data={f"vote-{p1.id}": "1", f"vote-{p2.id}": ""}).status_code == 303
    client.post(url, data={f"vote-{p1.id}": "-1", f"vote-{p2.id}": "0"})
    votes = dict(db.session.execute(sa.select(Vote.proposal_id, Vote.value)).all())
    assert votes == {p1.id: -1, p2.id: 0}
    sources = set(db.session.scalars(sa.select(VoteEvent.source)))
    assert sources == {"assisted"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VoteEvent)) == 3
    # the presentation counts votes as the results do: a changed vote is one vote
    page = client.get("/facilitate/rounds/a1/present", headers=EN).get_data(as_text=True)
    assert "1 participant · 2 votes" in page
    response = client.post(url, data={f"vote-{p1.id}": "7"}, headers=EN)
    assert response.status_code == 400 and "Unknown vote value" in response.get_data(as_text=True)
    assert 'role="alert" tabindex="-1" autofocus>Unknown vote value' in response.get_data(as_text=True)


def test_the_next_paper_sheet_is_offered_after_the_last(client, facilitator, db) -> None:
    """Staff typing in a pile of paper sheets find the next sheet's label and the last
    one's kind already in the form (用紙09 → 用紙10), to change when they differ."""
    factories.make_round(slug="paper", phase="voting")
    def offered() -> tuple[str, str]:
        page = client.get("/facilitate/rounds/paper/assisted", headers=EN).get_data(as_text=True)
        label = re.search(r'<input[^>]*name="label"[^>]*value="([^"]*)"', page).group(1)
        kind = re.search(r'<option selected value="([a-z_]+)"', page).group(1)
        return label, kind

    assert offered() == ("", "resident")
    client.post("/facilitate/rounds/paper/assisted",
                data={"label": "中央公民館 用紙09", "kind": "e_citizen"})
    assert offered() == ("中央公民館 用紙10", "e_citizen")
    client.post("/facilitate/rounds/paper/assisted", data={"label": "受付の紙", "kind": "visitor"})
    assert offered() == ("", "visitor")  # no number: no label to guess


def test_assisted_bad_inputs(client, facilitator, db) -> None:
    round_ = factories.make_round(slug="a2", phase="closed")
    p1 = factories.make_proposal(round_, "One")
    assert client.post("/facilitate/rounds/a2/assisted", data={"label": "", "kind": "resident"}
                       ).status_code == 400
    participant = factories.make_participant(round_, source="assisted", label="L")
    response = client.post(f"/facilitate/rounds/a2/assisted/{participant.id}",
                           data={f"vote-{p1.id}": "1"}, headers=EN)
    assert response.status_code == 400
    assert "does not accept votes" in response.get_data(as_text=True)
    normal = factories.make_participant(round_, factories.make_user())
    assert client.get(f"/facilitate/rounds/a2/assisted/{normal.id}").status_code == 404


def _snapshot(round_, proposals) -> ClusterSnapshot:
    snapshot = ClusterSnapshot(
        round_id=round_.id, method="pca", k=2,
        statistics={"group_aware_consensus": {str(proposals[0].id): 0.2,
                                              str(proposals[1].id): 0.9, "junk": "x"}})
    snapshot.groups = [SnapshotGroup(group_id=0, size=12), SnapshotGroup(group_id=1, size=7),
                       SnapshotGroup(group_id=2, size=2)]
    factories.db.session.add(snapshot)
    factories.db.session.commit()
    return snapshot


def test_presentation_view(client, facilitator, db) -> None:
    round_ = factories.make_round(slug="pr", phase="voting")
    proposals = [factories.make_proposal(round_, "Low"), factories.make_proposal(round_, "High")]
    page = client.get("/facilitate/rounds/pr/present", headers=EN).get_data(as_text=True)
    assert "no snapshot yet" in page and 'hx-trigger="every 15s"' in page
    _snapshot(round_, proposals)
    page = client.get("/facilitate/rounds/pr/present", headers=EN).get_data(as_text=True)
    assert page.index("High") < page.index("Low")
    # the room reads what the figure is, as on the results page, not a bare (90%) it
    # would take for the share that agrees
    assert "(agreement across groups: 90%)" in page
    ja = client.get("/facilitate/rounds/pr/present", headers={"Accept-Language": "ja"})
    assert "（グループを越えた合意度：90%）" in ja.get_data(as_text=True)
    # each row names its group as the chart above does (グループ1), not a bare 1
    assert '<th scope="row">Group 1</th><td class="num">12</td>' in page
    assert "Group 3" not in page  # small group hidden
    assert '<th scope="row">グループ1</th>' in ja.get_data(as_text=True)
    fragment = client.get("/facilitate/rounds/pr/present",
                          headers={**EN, "HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers["Vary"]


def test_counts_of_a_thousand_and_more_have_separators(client, facilitator, db) -> None:
    round_ = factories.make_round(slug="big", phase="voting")
    proposal = factories.make_proposal(round_, "One")
    db.session.execute(sa.insert(Participant), [
        {"round_id": round_.id, "source": "import", "kind": "resident", "external_id": f"p{i}"}
        for i in range(1234)])
    people = db.session.scalars(sa.select(Participant.id)).all()
    for model in (Vote, VoteEvent):
        db.session.execute(sa.insert(model), [
            {"round_id": round_.id, "participant_id": who, "proposal_id": proposal.id,
             "value": 1} for who in people])
    db.session.commit()
    for headers in (EN, {"Accept-Language": "ja"}):
        for path in ("/facilitate/rounds/big", "/facilitate/rounds/big/present", "/rounds/big",
                     "/", "/facilitate/rounds/big/dashboard"):
            page = client.get(path, headers=headers).get_data(as_text=True)
            assert "1,234" in page and "1234" not in page, (path, headers)


def test_dashboard_figures_and_csv(client, facilitator, db) -> None:
    round_ = factories.make_round(slug="d1", phase="voting")
    proposals = [factories.make_proposal(round_, "A"), factories.make_proposal(round_, "B")]
    now = utcnow()
    returning = factories.make_participant(round_, factories.make_user(kind="resident"))
    once = factories.make_participant(round_, factories.make_user(kind="e_citizen"))
    factories.make_participant(round_, source="assisted", kind="resident", label="W")
    for when, who, proposal in ((now - timedelta(days=2), returning, proposals[0]),
                                (now, returning, proposals[1]), (now, once, proposals[0])):
        db.session.add(VoteEvent(round_id=round_.id, participant_id=who.id,
                                 proposal_id=proposal.id, value=1, created_at=when))
    factories.make_proposal(round_, "Waiting", status="pending")
    db.session.commit()
    _snapshot(round_, proposals)
    response = client.get("/facilitate/rounds/d1/dashboard", headers=EN)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<svg" in page and "style=" not in page
    assert "1 (50.0%)" in page  # one of two voters came back on another day
    assert "Assisted" in page and "E-citizen" in page
    # days as the reader writes them, not in ISO form
    day = (now - timedelta(days=2)).astimezone(ZoneInfo("Asia/Tokyo")).date()
    page = client.get("/facilitate/rounds/d1/dashboard", headers={"Accept-Language": "ja"}
                      ).get_data(as_text=True)
    assert f"<td>{day:%Y/%m/%d}</td>" in page and day.isoformat() not in page
    csv_text = client.get("/facilitate/rounds/d1/dashboard?format=csv").get_data().decode(
        "utf-8-sig")
    figures = dict(row for row in csv.reader(io.StringIO(csv_text)) if len(row) == 2)
    assert figures["投票した参加者"] == "2" and figures["別の日に再訪した参加者"] == "1"
    assert figures["モデレーション待ち"] == "1" and figures["意見グループ1の人数"] == "12"
    # one person of a kind and a group of 2 are under the small-count minimum
    assert figures["参加者：代理入力"] == "5人未満" and "意見グループ3の人数" not in figures
    assert client.get("/facilitate/dashboard").status_code == 200


def test_dashboard_buckets_long_conversations_by_week_or_month(db) -> None:
    from deliberation.services import engagement

    round_ = factories.make_round(slug="long", phase="voting")
    proposal = factories.make_proposal(round_, "A")
    who = factories.make_participant(round_, factories.make_user())
    now = utcnow()
    for days_ago in (0, 200):
        db.session.add(VoteEvent(round_id=round_.id, participant_id=who.id, value=1,
                                 proposal_id=proposal.id,
                                 created_at=now - timedelta(days=days_ago)))
    db.session.commit()
    figures = engagement.dashboard(round_.id)
    assert figures.period == "week"
    assert all(day.weekday() == 0 for day in figures.days)
    assert sum(figures.votes_per_day) == 2 and figures.returning == 1


def test_dashboard_vote_figures_follow_new_and_late_events(db) -> None:
    """The figures are kept from the events counted before; new events, and an event that
    commits after a newer one (lower id), are counted once."""
    from deliberation.models import VoteTally
    from deliberation.services import engagement

    round_ = factories.make_round(slug="tally", phase="voting")
    proposal = factories.make_proposal(round_, "A")
    first, second = (factories.make_participant(round_, factories.make_user())
                     for _ in range(2))
    now = utcnow()

    def event(who: Participant, when, event_id: int) -> None:
        db.session.add(VoteEvent(id=event_id, round_id=round_.id, participant_id=who.id,
                                 proposal_id=proposal.id, value=1, created_at=when))
        db.session.commit()

    def figures() -> tuple[int, int, int]:
        d = engagement.dashboard(round_.id)
        return d.voters, d.returning, sum(d.votes_per_day)

    event(first, now - timedelta(days=3), 1000)
    event(second, now - timedelta(days=3), 1010)
    assert figures() == (2, 0, 2)
    assert figures() == (2, 0, 2)  # nothing new: the same figures
    event(first, now, 2000)
    assert figures() == (2, 1, 3)  # came back on another day
    event(second, now, 1500)  # committed after a newer event
    assert figures() == (2, 2, 4)
    tally = db.session.get(VoteTally, round_.id)
    assert (tally.last_event_id, tally.events) == (1010, 2)  # the last minute is not stored
    db.session.execute(sa.update(VoteEvent).where(VoteEvent.id.in_((1500, 2000)))
                       .values(created_at=now - timedelta(minutes=2)))
    db.session.commit()
    assert figures() == (2, 2, 4)
    db.session.refresh(tally)
    assert (tally.last_event_id, tally.events) == (2000, 4)


def test_a_rounds_dashboard_and_audit_log_say_which_round_in_their_title(
        client, facilitator, db) -> None:
    round_ = factories.make_round(slug="titled", title="Bus routes", phase="voting")
    for page, label in (("dashboard", "Engagement"), ("audit", "Audit log")):
        html = client.get(f"/facilitate/rounds/{round_.slug}/{page}", headers=EN).get_data(
            as_text=True)
        assert f"<title>{label}: Bus routes ·" in html
        assert re.search(f"<h1[^>]*>{label}: Bus routes</h1>", html)
    html = client.get("/facilitate/dashboard", headers=EN).get_data(as_text=True)
    assert "<title>Engagement (all rounds) ·" in html
