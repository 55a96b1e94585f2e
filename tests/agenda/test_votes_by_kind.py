"""The votes on an agenda item by the voters' relation to the town (verified by the town,
self-declared resident, 関係人口 …), frozen in the escalation's evidence with the one
small-count rule, shown on the item pages, the dossier and the council's exports."""

from __future__ import annotations

import csv
import io
import re

import sqlalchemy as sa

from deliberation import small_counts
from deliberation.database import db
from deliberation.engine import escalation as engine
from deliberation.jobs.runner import refresh_and_escalate
from deliberation.models import Escalation, Participant, User, Vote, VoteEvent, utcnow
from tests import factories


def _account(kind: str, level: str | None = None) -> User:
    """An account without a password (hashing one costs a quarter of a second)."""
    n = db.session.scalar(sa.select(sa.func.count()).select_from(User)) + 1
    user = User(email=f"kind{n}@example.org", display_name=f"K{n}", role="citizen", kind=kind,
                consent_version="t",
                consented_at=utcnow(), verification_level=level)
    db.session.add(user)
    db.session.flush()
    return user


def _voters(round_, proposal, kind: str, values: list[int], level: str | None = None) -> None:
    for value in values:
        participant = Participant(round_id=round_.id, user_id=_account(kind, level).id,
                                  source="account", kind=kind)
        db.session.add(participant)
        db.session.flush()
        db.session.add(Vote(round_id=round_.id, participant_id=participant.id,
                            proposal_id=proposal.id, value=value))


def _scene():
    """Verified residents 8 (6 agree, 2 disagree), self-declared residents 7 (5 agree, 1
    disagree, 1 pass), 関係人口 6 (all agree), visitors 2 (agree): the visitors and the
    small cells that would give them away are withheld."""
    round_ = factories.make_round(slug="kinds", title="駅前の広場", phase="voting")
    proposal = factories.make_proposal(round_, "駅前にベンチを増やす")
    _voters(round_, proposal, "resident", [1] * 6 + [-1] * 2, level="resident_verified")
    _voters(round_, proposal, "resident", [1] * 5 + [-1, 0])
    _voters(round_, proposal, "e_citizen", [1] * 6)
    _voters(round_, proposal, "visitor", [1, 1])
    db.session.commit()
    staff = factories.make_user("facilitator")
    esc = engine.escalate_manually(proposal.id, actor=staff, reason="多くの声")
    return round_, proposal, esc


RAW = {"resident_verified": {"agree": 6, "disagree": 2, "passes": 0, "total": 8},
       "resident": {"agree": 5, "disagree": 1, "passes": 1, "total": 7},
       "e_citizen": {"agree": 6, "disagree": 0, "passes": 0, "total": 6},
       "visitor": {"agree": 2, "disagree": 0, "passes": 0, "total": 2}}


def test_the_split_is_frozen_with_the_one_small_count_rule(db):
    round_, proposal, esc = _scene()
    split = db.session.get(Escalation, esc.id).evidence["votes_by_kind"]
    assert split["minimum"] == 5
    rows = {row["kind"]: {k: n for k, n in row.items() if k != "kind"} for row in split["rows"]}
    assert list(rows) == ["resident_verified", "resident", "e_citizen", "visitor"]
    expected = small_counts.table(RAW, ["agree", "disagree", "passes", "total"])
    assert rows == expected
    assert rows["visitor"] == dict.fromkeys(("agree", "disagree", "passes", "total"))
    assert rows["resident_verified"] == {"agree": 6, "disagree": None, "passes": None,
                                         "total": 8}
    # 2 visitors withheld, so the next smallest total is withheld too (else 23 - 8 - 7 - 6)
    assert rows["resident"]["total"] == 7 and rows["e_citizen"]["total"] is None
    # no stored cell is a count under the minimum
    assert all(n is None or n >= 5 for row in rows.values() for n in row.values())

    # Frozen: later votes and a later verification do not change the evidence.
    _voters(round_, proposal, "e_citizen", [-1] * 5)
    db.session.execute(sa.update(User).values(verification_level="resident_verified"))
    db.session.commit()
    db.session.expire_all()
    again = db.session.get(Escalation, esc.id).evidence["votes_by_kind"]
    assert again == split


def test_the_split_counts_the_votes_its_snapshot_counted(db):
    """A snapshot waits for the votes of fewer than five new people; a split counted
    live would differ from the snapshot's public counts by exactly their votes."""
    round_ = factories.make_round(slug="late", phase="voting")
    proposal = factories.make_proposal(round_, "駅前にベンチを増やす")
    crowd = [factories.make_participant(round_, kind="resident") for _ in range(6)]
    for person in crowd:
        factories.add_vote(person, proposal, 1)
    refresh_and_escalate(round_.id)
    factories.add_vote(factories.make_participant(round_, kind="resident"), proposal, -1)
    db.session.execute(sa.update(Vote).where(Vote.participant_id == crowd[0].id)
                       .values(value=0))  # a changed answer, with its event
    db.session.add(VoteEvent(round_id=round_.id, participant_id=crowd[0].id,
                             proposal_id=proposal.id, value=0))
    db.session.commit()
    esc = engine.escalate_manually(proposal.id, actor=factories.make_user("facilitator"),
                                   reason="多くの声")
    rows = {row["kind"]: row for row in esc.evidence["votes_by_kind"]["rows"]}
    assert rows["resident"]["agree"] == rows["resident"]["total"] == 6


def test_a_round_minimum_above_five_is_respected(db):
    round_ = factories.make_round(slug="strict", phase="voting", min_group_display=7)
    proposal = factories.make_proposal(round_, "Shade trees")
    _voters(round_, proposal, "resident", [1] * 10, level="resident_verified")
    _voters(round_, proposal, "resident", [1] * 6)
    _voters(round_, proposal, "e_citizen", [1] * 9)
    db.session.commit()
    esc = engine.escalate_manually(proposal.id, actor=factories.make_user("facilitator"),
                                   reason="r")
    split = esc.evidence["votes_by_kind"]
    assert split["minimum"] == 7
    # 6 is under this round's 7, and 9 would give it away (the column's total is public)
    assert {row["kind"]: row["total"] for row in split["rows"]} == {
        "resident_verified": 10, "resident": None, "e_citizen": None}


def test_automatic_escalations_keep_the_split_too(planted):
    refresh_and_escalate(planted.round.id)
    escalations = db.session.scalars(sa.select(Escalation)).all()
    assert escalations
    for esc in escalations:
        split = esc.evidence["votes_by_kind"]
        # the planted voters were imported without a relation to the town
        assert [row["kind"] for row in split["rows"]] == ["unknown"]
        assert split["rows"][0]["total"] == db.session.scalar(
            sa.select(sa.func.count()).select_from(Vote).where(
                Vote.proposal_id == esc.proposal_id))


def _table(page: str) -> dict[str, list[str]]:
    part = page[page.index("まちとの関わり別の投票"):]
    part = part[:part.index("</table>")]
    return {label: re.findall(r'<td class="num"[^>]*>([^<]*)</td>', cells) for label, cells in
            re.findall(r'<tr><th scope="row">([^<]*)</th>(.*?)</tr>', part, flags=re.S)}


def test_item_pages_and_dossier_show_the_split(client, login_as, db):
    round_, _proposal, esc = _scene()
    public = _table(client.get(f"/agenda/items/{esc.id}").get_data(as_text=True))
    assert public == {"住民（確認済み）": ["6", "5人未満", "5人未満", "8"],
                      "住民（自己申告）": ["5人未満", "5人未満", "5人未満", "7"],
                      "関係人口（eシチズン）": ["6", "5人未満", "5人未満", "5人未満"],
                      "来訪者": ["5人未満"] * 4}
    login_as("council")
    for url in (f"/agenda/council/items/{esc.id}", f"/agenda/council/items/{esc.id}/dossier",
                f"/agenda/council/rounds/{round_.slug}/dossier"):
        page = client.get(url).get_data(as_text=True)
        assert _table(page) == public, url
    english = client.get(f"/agenda/items/{esc.id}", headers={"Accept-Language": "en"})
    assert "Resident, verified by the town" in english.get_data(as_text=True)


def test_council_exports_carry_the_split(client, login_as, db):
    _round, _proposal, esc = _scene()
    login_as("council")
    text = client.get("/agenda/council/export.csv").data.decode("utf-8-sig")
    row = next(r for r in csv.DictReader(io.StringIO(text)) if int(r["議題番号"]) == esc.id)
    lines = row["まちとの関わり別の投票"].splitlines()
    assert lines == ["住民（確認済み）：賛成 6・反対 5人未満・パス 5人未満（計 8）",
                     "住民（自己申告）：賛成 5人未満・反対 5人未満・パス 5人未満（計 7）",
                     "関係人口（eシチズン）：賛成 6・反対 5人未満・パス 5人未満（計 5人未満）",
                     "来訪者：賛成 5人未満・反対 5人未満・パス 5人未満（計 5人未満）"]
    body = client.get("/agenda/council/export.json").get_json()
    item = next(i for i in body["items"] if i["escalation_id"] == esc.id)
    assert item["votes_by_kind"]["rows"][0] == {"kind": "resident_verified", "agree": 6,
                                                "disagree": None, "passes": None, "total": 8}
    assert item["display"]["votes_by_kind"] == row["まちとの関わり別の投票"]
    assert {"key": "votes_by_kind", "label": "まちとの関わり別の投票"} in body["columns"]


def test_items_escalated_before_the_split_show_no_table(client, db):
    round_ = factories.make_round(slug="old", phase="voting")
    proposal = factories.make_proposal(round_, "Old item")
    esc = Escalation(proposal_id=proposal.id, round_id=round_.id, kind="manual", reason="r",
                     evidence={"groups": []})
    db.session.add(esc)
    db.session.commit()
    response = client.get(f"/agenda/items/{esc.id}")
    assert response.status_code == 200
    assert "まちとの関わり別の投票" not in response.get_data(as_text=True)
