"""No count under 5 people by kind, group or their crossing: the rule and where it holds."""

from __future__ import annotations

import csv
import io
import re

import sqlalchemy as sa

from deliberation import small_counts
from deliberation.jobs.runner import refresh_and_escalate
from deliberation.models import Participant
from deliberation.services import engagement, results
from tests.agenda.conftest import build_planted_round


def test_small_cells_and_the_cells_that_would_give_them_away_are_withheld():
    table = small_counts.table(
        {"resident": {1: 20, 2: 9, "total": 29}, "e_citizen": {1: 1, 2: 6, "total": 7}},
        [1, 2, "total"])
    # 1 is withheld; 6 too (else 7 - 6 = 1), and then 9 and 20 in the columns
    assert table["e_citizen"] == {1: None, 2: None, "total": 7}
    assert table["resident"] == {1: None, 2: None, "total": 29}
    assert small_counts.minimum(3) == 5 and small_counts.minimum(8) == 8
    assert small_counts.cell(4) is None and small_counts.cell(5) == 5


def _round_with_one_e_citizen(db):
    planted = build_planted_round()
    first = db.session.scalar(sa.select(Participant).where(
        Participant.round_id == planted.round.id).order_by(Participant.id))
    first.kind = "e_citizen"
    db.session.commit()
    refresh_and_escalate(planted.round.id)
    return planted


def test_results_page_never_shows_a_small_crossing(client, db):
    planted = _round_with_one_e_citizen(db)
    view = results.results_for(planted.round)
    for _kind, counts in view.kinds:
        assert all(n is None or n >= 5 for n in counts.values())
    e_citizen = dict(view.kinds)["e_citizen"]
    assert set(e_citizen.values()) == {None}
    page = client.get(f"/rounds/{planted.round.slug}/results").data.decode()
    assert "5人未満" in page


def test_api_leaves_out_small_groups_even_when_the_round_allows_them(client, db):
    planted = build_planted_round(n_a=50, n_b=3)
    planted.round.min_group_display = 1
    db.session.commit()
    refresh_and_escalate(planted.round.id)
    body = client.get(f"/api/v1/rounds/{planted.round.slug}/results").get_json()
    assert all(g["size"] >= 5 for g in body["snapshot"]["groups"])
    assert client.get(f"/api/v1/rounds/{planted.round.slug}").get_json()[
        "min_group_display"] == 5


def test_dashboard_withholds_a_kind_with_fewer_than_five(client, db, login_as):
    planted = _round_with_one_e_citizen(db)
    figures = engagement.dashboard(planted.round.id)
    assert figures.kind_totals["e_citizen"] is None
    assert "e_citizen" not in figures.participants_by_kind
    login_as("facilitator")
    text = client.get(f"/facilitate/rounds/{planted.round.slug}/dashboard?format=csv"
                      ).data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert ["参加者：関係人口（eシチズン）", "5人未満"] in rows
    assert not any(cell.startswith("参加者の累計：関係人口") for cell in rows[0])


def _item_with_a_small_group(slug: str, text: str, small: dict, **round_settings):
    """An agenda item whose evidence has a group of 40 beside ``small`` (a group's figures)."""
    from deliberation.database import db
    from deliberation.models import Escalation
    from tests import factories

    round_ = factories.make_round(slug=slug, phase="voting", **round_settings)
    proposal = factories.make_proposal(round_, text)
    groups = [{"group_id": 0, "size": 40, "agree": 30, "disagree": 5, "passes": 5,
               "lower_bound": 0.6, "eligible": True}, {"group_id": 1, **small}]
    esc = Escalation(proposal_id=proposal.id, round_id=round_.id, kind="manual", reason="r",
                     evidence={"groups": groups})
    db.session.add(esc)
    db.session.commit()
    return esc


def test_escalation_evidence_leaves_out_small_groups(client, db):
    from deliberation.services import agenda

    esc = _item_with_a_small_group(
        "ev", "Shade trees on the main street",
        {"size": 3, "agree": 2, "disagree": 1, "passes": 0, "lower_bound": 0.2,
         "eligible": False})
    page = client.get(f"/agenda/items/{esc.id}").get_data(as_text=True)
    assert re.search(r"<td[^>]*>40</td>", page) and not re.search(r"<td[^>]*>3</td>", page)
    assert "5人未満のグループ" in page
    assert [g["size"] for g in agenda.export_rows()[0]["groups"]] == [40]


def test_escalation_evidence_keeps_to_the_rounds_own_minimum(client, db):
    """A round that shows no group under 10 people on its results page does not show one
    on its agenda either: not in the chart, not in the support figure, not in the export."""
    from deliberation.services import agenda

    esc = _item_with_a_small_group(
        "village", "A bus to the clinic on Tuesdays",
        {"size": 7, "agree": 4, "disagree": 3, "passes": 0, "lower_bound": 0.3,
         "eligible": True}, min_group_display=10)
    page = client.get(f"/agenda/items/{esc.id}").get_data(as_text=True)
    assert re.search(r"<td[^>]*>40</td>", page) and not re.search(r"<td[^>]*>7</td>", page)
    assert "10人未満のグループ（1件）は表示していません。" in page
    # the weakest group shown is the 40 (75% agree), not the hidden 7 (57%)
    assert "投票した人の75%以上が賛成" in page and "57%" not in page
    assert [g["size"] for g in agenda.export_rows()[0]["groups"]] == [40]
    assert agenda.export_rows()[0]["support"] == 0.75
