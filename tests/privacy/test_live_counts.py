"""No public count moves with a single vote. Whoever knows when someone voted (they sat
beside them at a workshop, or watched a shared screen) and reads a count just before and
just after would learn the vote. Public vote counts are those of the latest snapshot, the
figures the results page shows with their time, never the live votes."""

from __future__ import annotations

import re

from tests import factories

EN = {"Accept-Language": "en"}
JA = {"Accept-Language": "ja"}


def _order(client, slug: str, sort: str) -> list[str]:
    html = client.get(f"/rounds/{slug}/proposals", query_string={"sort": sort},
                      headers=EN).get_data(as_text=True)
    return re.findall(r'<p id="text-\d+"[^>]*><a href="[^"]+">([^<]*)</a>', html)


def _world():
    round_ = factories.make_round(slug="town", phase="voting")
    trees, buses = (factories.make_proposal(round_, text) for text in ("Trees", "Buses"))
    crowd = [factories.make_participant(round_) for _ in range(4)]
    for person, (on_trees, on_buses) in zip(crowd, [(1, 1), (1, 1), (-1, 0), (0, -1)],
                                            strict=True):
        factories.add_vote(person, trees, on_trees)
        factories.add_vote(person, buses, on_buses)
    snapshot = factories.snapshot_of_votes(round_)
    return round_, trees, buses, snapshot


def test_the_api_counts_are_the_latest_snapshots(client, db) -> None:
    round_, trees, _buses, snapshot = _world()
    before = client.get("/api/v1/rounds/town/proposals").get_json()
    assert before["counts_as_of"] == snapshot.created_at.isoformat()
    neighbour = factories.make_participant(round_)
    factories.add_vote(neighbour, trees, -1)  # seen at the workshop, at 10:02
    after = client.get("/api/v1/rounds/town/proposals").get_json()
    assert after == before
    assert {p["text"]: p["votes"] for p in after["proposals"]}["Trees"] == {
        "agree": 2, "disagree": 1, "pass": 1}
    later = factories.snapshot_of_votes(round_)  # the votes grouped again: with the others
    moved = client.get("/api/v1/rounds/town/proposals").get_json()
    assert moved["counts_as_of"] == later.created_at.isoformat()
    assert {p["text"]: p["votes"] for p in moved["proposals"]}["Trees"] == {
        "agree": 2, "disagree": 2, "pass": 1}


def test_the_api_without_a_snapshot_counts_nothing(client, db) -> None:
    round_ = factories.make_round(slug="new", phase="voting")
    proposal = factories.make_proposal(round_, "Trees")
    factories.add_vote(factories.make_participant(round_), proposal, 1)
    body = client.get("/api/v1/rounds/new/proposals").get_json()
    assert body["counts_as_of"] is None
    assert body["proposals"][0]["votes"] == {"agree": 0, "disagree": 0, "pass": 0}


def test_the_order_by_agreement_does_not_move_with_a_vote(client, db) -> None:
    round_, trees, _buses, _snapshot = _world()
    # a tie (two agree each): the newer first
    assert _order(client, "town", "agreed") == _order(client, "town", "votes") == ["Buses", "Trees"]
    neighbour = factories.make_participant(round_)
    factories.add_vote(neighbour, trees, 1)
    assert _order(client, "town", "agreed") == _order(client, "town", "votes") == ["Buses", "Trees"]
    factories.snapshot_of_votes(round_)
    assert _order(client, "town", "agreed") == _order(client, "town", "votes") == ["Trees", "Buses"]
    page = client.get("/rounds/town/proposals", query_string={"sort": "agreed"},
                      headers=JA).get_data(as_text=True)
    assert "投票のたびではなく" in page


def test_counts_move_only_when_enough_people_voted_since(client, db) -> None:
    from deliberation.jobs import runner
    from deliberation.services.snapshot_requests import request_snapshot

    round_ = factories.make_round(slug="quiet", phase="voting")
    trees, buses = (factories.make_proposal(round_, text) for text in ("Trees", "Buses"))
    for i in range(5):
        person = factories.make_participant(round_)
        factories.add_vote(person, trees, (1, 1, -1, 0, 1)[i])
        factories.add_vote(person, buses, (1, -1, -1, 0, 0)[i])
    assert runner.run_once(min_interval=0) == [round_.id]
    before = client.get("/api/v1/rounds/quiet/proposals").get_json()
    neighbour = factories.make_participant(round_)
    factories.add_vote(neighbour, trees, -1)  # seen at the workshop, at 10:02
    assert runner.run_once(min_interval=0) == []  # one new voter: no new snapshot
    assert client.get("/healthz").get_json()["rounds"][0]["refresh_pending"] is False
    request_snapshot(round_)  # a moderation, a phase change...: a snapshot all the same
    db.session.commit()
    assert runner.run_once(min_interval=0) == [round_.id]
    assert client.get("/api/v1/rounds/quiet/proposals").get_json() == before
    page = client.get("/rounds/quiet/results", headers=JA).get_data(as_text=True)
    assert "人以上が投票したときにだけ変わります" in page
    factories.log_in(client, factories.make_user("facilitator"))
    page = client.get("/facilitate/rounds/quiet", headers=JA).get_data(as_text=True)
    assert "時点の票で数えています" in page and "5人以上が投票したときにだけ" in page
    client.get("/auth/logout")
    for _ in range(4):
        factories.add_vote(factories.make_participant(round_), buses, 1)
    assert runner.run_once(min_interval=0) == [round_.id]
    after = client.get("/api/v1/rounds/quiet/proposals").get_json()
    assert after["counts_as_of"] > before["counts_as_of"]
    assert {p["text"]: p["votes"] for p in after["proposals"]} == {
        "Trees": {"agree": 3, "disagree": 2, "pass": 1},
        "Buses": {"agree": 5, "disagree": 2, "pass": 2}}


def _round_with_a_late_voter(slug: str):
    """Five voters and their snapshot, then one more voter: too few to move the counts
    while the round takes votes."""
    from deliberation.jobs import runner

    round_ = factories.make_round(slug=slug, phase="voting")
    trees = factories.make_proposal(round_, "Trees")
    for value in (1, 1, -1, 0, 1):
        factories.add_vote(factories.make_participant(round_), trees, value)
    assert runner.run_once(min_interval=0) == [round_.id]
    factories.add_vote(factories.make_participant(round_), trees, -1)
    assert runner.run_once(min_interval=0) == []
    return round_


def _trees(client, slug: str) -> dict:
    body = client.get(f"/api/v1/rounds/{slug}/proposals").get_json()
    return {p["text"]: p["votes"] for p in body["proposals"]}["Trees"]


def test_closing_a_round_counts_its_last_voters(client, db, login_as) -> None:
    """Once no more votes can come, holding the last few back would leave them out of the
    final results and of what reaches the council for good: the final snapshot counts
    every vote."""
    from deliberation.jobs import runner

    round_ = _round_with_a_late_voter("closing")
    login_as("facilitator")
    response = client.post(f"/facilitate/rounds/{round_.slug}/phase", data={"action": "close"})
    assert response.status_code in (302, 303)
    assert runner.run_once(min_interval=0) == [round_.id]
    assert _trees(client, "closing") == {"agree": 3, "disagree": 2, "pass": 1}
    page = client.get("/rounds/closing/results", headers=JA).get_data(as_text=True)
    assert "すべての票を数えています" in page
    assert "人以上が投票したときにだけ変わります" not in page


def test_a_deadline_that_passed_counts_the_last_voters(client, db) -> None:
    from datetime import timedelta

    from deliberation.jobs import runner
    from deliberation.models import utcnow

    round_ = _round_with_a_late_voter("deadline")
    round_.closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert runner.run_once(min_interval=0) == [round_.id]
    assert _trees(client, "deadline") == {"agree": 3, "disagree": 2, "pass": 1}
