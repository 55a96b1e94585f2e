"""The opinion map's dots are drawn in an order that says nothing of who is who. In the
order of participant numbers, the dots beside one's own ("you") would be the people who
began voting just before and after: at a workshop, the neighbour who started next, whose
dot then shows their opinion group."""

from __future__ import annotations

import re

from deliberation.database import db
from deliberation.models import ClusterSnapshot, SnapshotGroup, SnapshotMembership
from tests import factories

CIRCLE = re.compile(r'<circle cx="([\d.]+)" cy="([\d.]+)" r="4" class="([^"]+)"/>')


def _snapshot(round_, placed: list[tuple[object, float, float, int]]) -> None:
    """A snapshot whose memberships are written in participant order, as the engine does."""
    snapshot = ClusterSnapshot(round_id=round_.id, status="ok", method="pca", k=2,
                               n_participants=len(placed), n_clustered=len(placed))
    db.session.add(snapshot)
    db.session.flush()
    for group_id in (0, 1):
        db.session.add(SnapshotGroup(snapshot_id=snapshot.id, group_id=group_id,
                                     size=sum(1 for *_p, g in placed if g == group_id)))
    for participant, x, y, group_id in sorted(placed, key=lambda row: row[0].id):
        db.session.add(SnapshotMembership(snapshot_id=snapshot.id, participant_id=participant.id,
                                          x=x, y=y, group_id=group_id))
    db.session.commit()


def _dots(client, slug: str) -> list[tuple[str, str, str]]:
    return CIRCLE.findall(client.get(f"/rounds/{slug}/results").get_data(as_text=True))


def test_the_dots_do_not_follow_the_order_people_joined_in(client, db) -> None:
    round_ = factories.make_round(slug="town", phase="voting", min_group_display=5)
    factories.make_proposal(round_, "Trees")
    people = [factories.make_participant(round_) for _ in range(12)]
    spots = [(float(i % 5), float((i * 7) % 11), 0 if i % 2 else 1) for i in range(12)]
    _snapshot(round_, [(p, *spot) for p, spot in zip(people, spots, strict=True)])
    first = _dots(client, "town")
    assert len(first) == 12
    # the same dots, each belonging to someone else
    _snapshot(round_, [(p, *spot) for p, spot in zip(reversed(people), spots, strict=True)])
    assert _dots(client, "town") == first
