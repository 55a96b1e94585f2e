"""Results split residents the town verified from residents by their own word, under the
small-count rule."""

from __future__ import annotations

import re

from deliberation.database import db
from deliberation.models import ClusterSnapshot, SnapshotGroup, SnapshotMembership
from deliberation.services import results
from tests import factories

JA = {"Accept-Language": "ja"}
EN = {"Accept-Language": "en"}


def _member(round_, snapshot, group, *, kind, level="email", account=True) -> None:
    user = factories.make_user(kind=kind, verification_level=level) if account else None
    participant = factories.make_participant(round_, user, kind=kind)
    db.session.add(SnapshotMembership(snapshot_id=snapshot.id, participant_id=participant.id,
                                      group_id=group, x=0.1 * (group or 0), y=0.2))


def test_verified_and_self_declared_residents_are_counted_apart(client, db) -> None:
    round_ = factories.make_round(slug="kinds", phase="voting")
    snapshot = ClusterSnapshot(round_id=round_.id, method="pca", k=2)
    db.session.add(snapshot)
    db.session.flush()
    db.session.add_all([SnapshotGroup(snapshot_id=snapshot.id, group_id=0, size=12),
                        SnapshotGroup(snapshot_id=snapshot.id, group_id=1, size=12)])
    for _ in range(6):
        _member(round_, snapshot, 0, kind="resident", level="resident_verified")
        _member(round_, snapshot, 0, kind="resident")
        _member(round_, snapshot, 1, kind="e_citizen")
    for _ in range(5):
        _member(round_, snapshot, 1, kind="resident", level="resident_verified")
    # verified by the town although they ticked "e-citizen": the verification counts
    _member(round_, snapshot, 1, kind="e_citizen", level="resident_verified")
    _member(round_, snapshot, None, kind="resident", account=False)  # not placed yet
    db.session.commit()

    view = results.results_for(round_)
    rows = dict(view.kinds)
    assert [kind for kind, _counts in view.kinds] == ["resident_verified", "resident",
                                                      "e_citizen"]
    assert rows["resident_verified"]["total"] == 12
    assert rows["resident"]["total"] == 7
    assert rows["e_citizen"]["total"] == 6
    for counts in rows.values():  # nothing under 5 on its own
        assert all(n is None or n >= 5 for n in counts.values())
    assert rows["resident"][None] is None  # the one unplaced resident is withheld

    html = client.get("/rounds/kinds/results", headers=JA).get_data(as_text=True)
    table = html[html.index('id="kinds-heading"'):]
    assert "住民（確認済み）" in table and "住民（自己申告）" in table
    assert table.index("住民（確認済み）") < table.index("住民（自己申告）")
    assert "5人未満" in table
    # and in easy Japanese, for a reader who chose it (ruby and tags aside)
    client.post("/reading", data={"reading": "easy"}, headers=JA)
    easy = client.get("/rounds/kinds/results", headers=JA).get_data(as_text=True)
    easy = re.sub(r"<[^>]+>", "", re.sub(r"<rt\b[^>]*>.*?</rt>", "", easy))
    assert "参加した人（まちとの関係ごと、グループごと）" in easy and "5より少ない" in easy
    assert "未満" not in easy and "意見グループ別" not in easy
    english = client.get("/rounds/kinds/results", headers=EN).get_data(as_text=True)
    assert "Resident, verified by the town" in english and "Resident, self-declared" in english


def test_a_handful_of_verified_residents_is_never_shown(client, db) -> None:
    round_ = factories.make_round(slug="few", phase="voting")
    snapshot = ClusterSnapshot(round_id=round_.id, method="pca", k=1)
    db.session.add(snapshot)
    db.session.flush()
    db.session.add(SnapshotGroup(snapshot_id=snapshot.id, group_id=0, size=14))
    for _ in range(2):
        _member(round_, snapshot, 0, kind="resident", level="resident_verified")
    for _ in range(12):
        _member(round_, snapshot, 0, kind="resident")
    db.session.commit()
    rows = dict(results.results_for(round_).kinds)
    assert set(rows["resident_verified"].values()) == {None}
    # and the self-declared row cannot give the two away by subtraction
    assert rows["resident"][1] is None or rows["resident"]["total"] is None
