"""The results page reads without statistics: named groups, people not yet placed shown
apart, a map scale that one far-out participant cannot squash, per-group figures with
"did not vote"."""

from __future__ import annotations

import re

from deliberation.models import SnapshotMembership
from deliberation.services import results
from tests.factories import make_participant

EN = {"Accept-Language": "en"}
JA = {"Accept-Language": "ja"}


def test_groups_are_named_after_their_most_representative_proposal(
        client, round_with_snapshot) -> None:
    round_, *_ = round_with_snapshot
    html = client.get(f"/rounds/{round_.slug}/results", headers=EN).get_data(as_text=True)
    assert "Group 1: agrees with “Idea number 0”" in html
    assert "Group 2: agrees with “Idea number 1”" in html
    ja = client.get(f"/rounds/{round_.slug}/results", headers=JA).get_data(as_text=True)
    assert "グループ1：「Idea number 0」に賛成" in ja


def test_unplaced_participants_are_counted_and_drawn_apart(
        client, db, round_with_snapshot) -> None:
    round_, _proposals, _participants, snap = round_with_snapshot
    for _ in range(5):
        newcomer = make_participant(round_)
        db.session.add(SnapshotMembership(snapshot_id=snap.id, participant_id=newcomer.id,
                                          x=0.0, y=0.0, group_id=None))
    db.session.commit()
    html = client.get(f"/rounds/{round_.slug}/results", headers=EN).get_data(as_text=True)
    assert "5 participants have voted on too few proposals to be placed in a group yet" in html
    assert html.count('class="dot-unplaced"') == 5  # hollow, apart from the groups' colours
    ja = client.get(f"/rounds/{round_.slug}/results", headers=JA).get_data(as_text=True)
    assert "5人は、投票した提案がまだ少ないため" in ja
    # the tables by kind and per proposal do not call them 「その他」 as if in small groups
    kinds = ja[ja.index('id="kinds-heading"'):]
    assert "未分類または少人数のグループ" in kinds and "その他" not in kinds
    assert "Not placed, or in a small group" in html[html.index('id="kinds-heading"'):]


def test_one_far_out_participant_does_not_squash_the_map(app, db, round_with_snapshot) -> None:
    round_, _proposals, participants, snap = round_with_snapshot
    far = db.session.query(SnapshotMembership).filter_by(
        snapshot_id=snap.id, participant_id=participants[0].id).one()
    far.x = 1000.0  # everyone else lies within x in [0, 2.05]
    db.session.commit()
    data = results.results_for(round_)
    xs = sorted(x for x, _y, _c in data.points)
    # Without clipping the 13 others would sit within 1% of the map's width.
    assert xs[-2] - xs[0] > results.MAP_SIZE / 2
    assert all(results.MAP_PAD <= x <= results.MAP_SIZE - results.MAP_PAD for x in xs)


def test_per_group_table_shows_who_did_not_vote(client, round_with_snapshot) -> None:
    round_, *_ = round_with_snapshot
    html = client.get(f"/rounds/{round_.slug}/results", headers=JA).get_data(as_text=True)
    assert "投票しなかった人" in html
    assert "実行者" not in html
    # group 1 has 6 members of whom 1 + 1 + 0 voted on each proposal: 4 did not vote
    table = html[html.index('class="data-table bars-table"'):]
    row = re.search(r"<th scope=\"row\">グループ1.*?</tr>", table, re.S).group(0)
    assert re.findall(r'<td class="num">(\d+)</td>', row) == ["4"]
