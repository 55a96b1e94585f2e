"""The data download holds every row that refers to the account, found from the model
metadata: a new table with a reference to users or participants is covered, or this fails."""

from __future__ import annotations

import base64
import html
import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app import template_helpers as templ
from app.account import records as account_records
from deliberation.database import db
from deliberation.models import (
    AgendaAnswerSeen,
    ClusterSnapshot,
    Escalation,
    EscalationReview,
    ImportJob,
    OfficialResponse,
    PostalCode,
    Report,
    SnapshotMembership,
    TownSetting,
    VerificationRecord,
    VoteEvent,
    audit,
    utcnow,
)
from deliberation.services import privacy, town
from tests import factories


@pytest.fixture()
def everything(db):
    """One account that has a row in every table that can refer to it, and a neighbour."""
    me = factories.make_user("facilitator", display_name="Hanako")
    other = factories.make_user(display_name="Taro")
    round_ = factories.make_round(slug="all", phase="voting", created_by_id=me.id)
    mine = factories.make_participant(round_, me)
    theirs = factories.make_participant(round_, other)
    factories.make_proposal(round_, "My rejected idea", author_id=mine.id,
                                       status="rejected", rejection_reason="Off topic here",
                                       moderated_by_id=me.id)
    public = factories.make_proposal(round_, "Their idea", author_id=theirs.id,
                                     moderated_by_id=me.id)
    factories.add_vote(mine, public, 1)
    db.session.add(VoteEvent(round_id=round_.id, participant_id=mine.id,
                             proposal_id=public.id, value=-1, source="web",
                             created_at=utcnow() - timedelta(hours=1)))
    factories.add_vote(theirs, public, 1)
    db.session.add(Report(proposal_id=public.id, reporter_id=me.id, reason="Rude words"))
    snapshot = ClusterSnapshot(round_id=round_.id, method="pca", k=1)
    db.session.add(snapshot)
    db.session.flush()
    db.session.add(SnapshotMembership(snapshot_id=snapshot.id, participant_id=mine.id,
                                      x=0.1, y=0.2, group_id=0))
    db.session.add(SnapshotMembership(snapshot_id=snapshot.id, participant_id=theirs.id,
                                      x=0.3, y=0.4, group_id=0))
    esc = Escalation(proposal_id=public.id, round_id=round_.id, kind="manual", reason="r",
                     escalated_by_id=me.id, withdrawn_by_id=me.id, withdrawn_at=utcnow())
    db.session.add(esc)
    db.session.flush()
    response = OfficialResponse(escalation_id=esc.id, due_at=utcnow(), updated_by_id=me.id,
                                status="answered", answered_at=utcnow())
    db.session.add(response)
    db.session.flush()
    db.session.add(AgendaAnswerSeen(user_id=me.id, response_id=response.id,
                                    answered_at=response.answered_at))
    db.session.add(VerificationRecord(user_id=me.id, level="resident_verified",
                                      method="counter", verified_by_id=me.id))
    db.session.add(PostalCode(code_hash="0" * 64, batch="b", created_by_id=me.id,
                              expires_at=utcnow(), posted_at=utcnow(),
                              posted_confirmed_by_id=me.id, used_at=utcnow(), used_by_id=me.id))
    db.session.add(EscalationReview(proposal_id=public.id, round_id=round_.id,
                                    status="dismissed", decided_by_id=me.id))
    db.session.add(TownSetting(key="logo", value="image/png", data=b"\x89PNG logo",
                               updated_by_id=me.id))
    db.session.add(ImportJob(slug="upload", round_phase="voting", created_by_id=me.id))
    audit.record("account.role_changed", actor=other, target=me, role="facilitator")
    audit.record("proposal.report", actor=me, target=public, round_id=round_.id)
    db.session.commit()
    return me, other, mine


def test_every_reference_to_the_account_is_in_the_download(everything):
    me, _other, mine = everything
    records = privacy.export_data(me)["records"]
    mine_ids = {"users": {me.id}, "participants": {mine.id}}
    references = privacy.references()
    assert {(t.name, c.name) for t, c, _target in references} >= {
        ("votes", "participant_id"), ("vote_events", "participant_id"),
        ("agenda_answers_seen", "user_id"), ("audit_log", "actor_id")}
    for table, column, target in references:
        pk = next(iter(table.primary_key.columns))
        expected = set(db.session.scalars(
            sa.select(pk).where(column.in_(mine_ids[target]))))
        # the scenario must reach every reference; a new one needs a row here too
        assert expected, f"no {table.name}.{column.name} row in the test scenario"
        exported = {row[pk.name] for row in records.get(table.name, [])}
        assert expected <= exported, f"{table.name}.{column.name} missing from the download"
    # A file kept in a row (the logo an administrator uploaded) comes as base64 text.
    assert records["town_settings"][0]["data"] == base64.b64encode(b"\x89PNG logo").decode()
    json.dumps(records)


def test_the_download_names_no_one_else_and_no_secret(everything):
    me, other, _mine = everything
    data = privacy.export_data(me)
    text = repr(data)
    assert "Taro" not in text and other.email not in text
    assert "password_hash" not in text and "session_ids" not in text
    for table, column, target in privacy.references():
        if target == "users":
            for row in data["records"].get(table.name, []):
                assert row.get(column.name) in (None, me.id)
    assert len(data["vote_history"]) == 2  # the change and the first vote
    assert data["proposals"][0]["rejection_reason"] == "Off topic here"
    assert len(data["answers_seen"]) == 1
    assert {e["action"] for e in data["audit_entries"]} == {"account.role_changed",
                                                             "proposal.report"}


def test_the_readable_page_is_japanese_first(client, everything):
    me, _other, _mine = everything
    factories.log_in(client, me)
    response = client.get("/account/data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "Off topic here" in page and "Rude words" in page
    assert "投票日時" in page and "ファシリテーターの理由" in page
    # its own name, not マイデータ like the page it is opened from, and a way back there
    assert "<title>保存されているあなたのデータ · " in page
    assert '<a href="/account/">マイデータに戻る</a>' in page
    assert client.get("/account/data.json").get_json()["format"] == "hiroba-my-data/2"


def test_the_page_needs_a_login(client, db):
    response = client.get("/account/data")
    assert response.status_code in (302, 303, 401)


def _record_tables(page: str) -> dict[str, list[str]]:
    """The "every record" part of the data page: each table's caption -> column headings."""
    part = page[page.index('id="records-h"'):]
    tables = {}
    for caption, head in re.findall(r"<caption>(.*?)</caption>\s*<thead><tr>(.*?)</tr></thead>",
                                    part, flags=re.S):
        tables[html.unescape(caption)] = [html.unescape(h) for h in
                                          re.findall(r'<th scope="col">(.*?)</th>', head)]
    return tables


def test_every_record_is_headed_in_words(client, everything):
    me, _other, _mine = everything
    factories.log_in(client, me)
    records = privacy.export_data(me)["records"]
    page = client.get("/account/data").get_data(as_text=True)
    shown = _record_tables(page)
    with force_locale("ja"):
        expected = {str(account_records.TABLE_LABELS[name]):
                    [str(account_records.column_label(name, column)) for column in rows[0]]
                    for name, rows in records.items() if rows}
    # every table with rows, every column, in the stored order, headed in Japanese
    assert shown == expected
    headings = [h for columns in shown.values() for h in columns]
    assert "<code" not in "".join(headings) and "created_at" not in headings
    assert "作成日時" in headings and "アカウント番号" in headings
    assert "あなたの投票" in shown["現在の投票"]
    assert "議題入りの方法" in shown["あなたが議題に上げた、または取り下げた項目"]
    # ... and the rows are complete: what is stored is on the page
    assert "0" * 64 in page and base64.b64encode(b"\x89PNG logo").decode() in page
    assert "Rude words" in page and "Off topic here" in page
    english = _record_tables(client.get("/account/data", headers={"Accept-Language": "en"})
                             .get_data(as_text=True))
    assert "Created at" in english["Your account"] and "Email address" in english["Your account"]


def test_every_column_that_can_hold_an_account_has_a_heading(app):
    """A new table or column that refers to an account fails here until it is named."""
    names = {table.name for table, _column, _target in privacy.references()}
    names |= {"users", "audit_log", "mail_outbox"}
    missing_tables = sorted(names - set(account_records.TABLE_LABELS))
    assert missing_tables == []
    missing = [f"{name}.{column.name}" for name in sorted(names)
               for column in db.metadata.tables[name].columns
               if column.name not in privacy.SECRET_COLUMNS
               and account_records.column_label(name, column.name) == column.name]
    assert missing == []


def _codes_of(table) -> dict[str, list]:
    """The values a check constraint allows in each column of ``table`` (``col IN (...)``)."""
    found: dict[str, list] = {}
    for constraint in table.constraints:
        if isinstance(constraint, sa.CheckConstraint):
            match = re.search(r"(\w+) IN \((.*)\)", str(constraint.sqltext))
            if match:
                found[match[1]] = [json.loads(v.strip().replace("'", '"'))
                                   for v in match[2].split(",")]
    return found


# Columns holding codes that no check constraint lists (set by the code that writes them),
# with the values they hold.
CODE_COLUMNS = {
    ("audit_log", "action"): list(templ.ACTION_LABELS),
    ("audit_log", "target_type"): list(templ.TARGET_LABELS),
    ("audit_log", "actor_role"): list(templ.ROLE_LABELS),
    ("mail_outbox", "purpose"): list(templ.MAIL_PURPOSE_LABELS),
    ("reports", "resolution"): ["upheld", "dismissed"],
    ("escalations", "round_phase"): list(templ.PHASE_LABELS),
    ("import_jobs", "round_phase"): list(templ.PHASE_LABELS),
    ("users", "locale"): ["ja", "en"],
    ("town_settings", "key"): [*town.TEXT_FIELDS, town.LOGO],
    ("rounds", "source"): ["native", "polis"],
}


def _record_table_names() -> set[str]:
    return ({table.name for table, _column, _target in privacy.references()}
            | {"users", "audit_log", "mail_outbox"})


def test_every_enum_value_on_the_data_page_has_words(app):
    """A new enum column, or a new value of one, fails here until the page can say it."""
    missing, unlabelled = [], []
    with app.test_request_context(), force_locale("ja"):
        for name in sorted(_record_table_names()):
            table = db.metadata.tables[name]
            for column, values in _codes_of(table).items():
                if account_records.value_labels(name, column) is None:
                    missing.append(f"{name}.{column}")
                    continue
                unlabelled += [f"{name}.{column}={v}" for v in values
                               if account_records.cell(name, column, v) in ("", str(v))]
        for (name, column), values in sorted(CODE_COLUMNS.items()):
            unlabelled += [f"{name}.{column}={v}" for v in values
                           if account_records.cell(name, column, v) in ("", str(v))]
    assert missing == [] and unlabelled == []


def _record_cells(page: str) -> list[str]:
    part = page[page.index('id="records-h"'):]
    return [html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<td>(.*?)</td>", part, flags=re.S)]


def test_every_record_value_is_in_words_and_the_download_keeps_codes(client, everything):
    me, _other, _mine = everything
    factories.log_in(client, me)
    page = client.get("/account/data").get_data(as_text=True)
    assert "<code" not in page[page.index('id="records-h"'):]
    cells = _record_cells(page)
    codes = {str(v) for name in _record_table_names()
             for values in _codes_of(db.metadata.tables[name]).values()
             for v in values if not isinstance(v, int)}
    codes |= {"account.role_changed", "proposal.report", "users", "proposals", "True",
              "False", "true", "false", "None"}
    # No cell, nor any part of a stored JSON value, is a code.
    parts = {p.strip() for c in cells for item in c.split("、") for p in item.split(": ")}
    assert parts & codes == set()
    # Times are Japan time to the minute, never ISO text.
    assert not [c for c in cells if re.search(r"\d\d:\d\d:\d\d|T\d\d:", c)]
    with client.application.test_request_context(), force_locale("ja"):
        expected = {str(label) for label in (
            templ.PHASE_LABELS["voting"], templ.ROLE_LABELS["facilitator"],
            templ.PROPOSAL_STATUS_LABELS["rejected"], templ.action_label("proposal.report"),
            templ.TARGET_LABELS["proposals"], templ.KIND_LABELS["resident"])}
        expected |= {"賛成", "反対", "はい", "いいえ"}
        # a key inside stored JSON (the audit entry's details), and its value, in words
        role_detail = (f"{account_records.column_label('audit_log', 'role')}："
                       f"{templ.ROLE_LABELS['facilitator']}")
    assert expected <= set(cells) | parts
    assert role_detail in cells
    # The machine-readable copy keeps the stored values.
    records = client.get("/account/data.json").get_json()["records"]
    assert records["rounds"][0]["phase"] == "voting"
    assert {r["value"] for r in records["vote_events"]} == {1, -1}
    assert records["proposals"][0]["status"] == "rejected"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT.*", records["users"][0]["created_at"])


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def _labels_in(cell: str) -> set[str]:
    """The labels of ``label：value`` pairs in a cell, however deeply bracketed."""
    return {m.strip() for m in re.findall(r"(?:^|[、（])([^、（）：]+)：", cell)}


def test_escalation_evidence_is_in_words_and_the_download_keeps_codes(client, db):
    """The evidence the engine freezes (decision, groups, snapshot manifest, votes by
    relation to the town, coordinated voting, the review) reads in Japanese: no key and no
    code as stored."""
    from deliberation.engine import escalation
    from deliberation.jobs.runner import refresh_and_escalate
    from tests.agenda.conftest import build_planted_round

    me = factories.make_user("facilitator", display_name="Hanako")
    planted = build_planted_round()
    planted.round.escalation_armed = False
    db.session.commit()
    snapshot = refresh_and_escalate(planted.round.id)
    block = {"size": 12, "similarity": 0.9583, "span_seconds": 240.0, "n_votes": 168}
    coordination = {"blocks": [block], "decisive": True, "effect": "pushed",
                    "snapshot_id": snapshot.id,
                    "with_blocks": {"escalate": True, "total_votes": 75, "support": 0.61},
                    "without_blocks": {"escalate": False, "reasons": ["too_few_votes"],
                                       "total_votes": 63, "support": 0.4}}
    db.session.add(EscalationReview(proposal_id=planted.consensus[1], round_id=planted.round.id,
                                    status="pending", snapshot_id=snapshot.id,
                                    evidence=coordination))
    db.session.flush()
    review = db.session.scalars(sa.select(EscalationReview)).one()
    esc = escalation.escalate_reviewed(review, actor=me, reason="checked the block")
    db.session.commit()
    stored = esc.evidence
    assert {"groups", "snapshot", "votes_by_kind", "coordination", "review"} <= set(stored)
    factories.log_in(client, me)
    page = client.get("/account/data").get_data(as_text=True)
    cells = _record_cells(page)
    evidence = next(c for c in cells if "グループ横断の合意度" in c)
    labels = {label for c in cells for label in _labels_in(c)}
    # programs keep their own names (scikit-learn is written so by its makers)
    assert (_keys(stored) - {"scikit-learn"}) & labels == set()
    assert "意見グループごとの投票" in labels and "計算の方法" in labels
    assert "まとまって投票したアカウント群" in labels and "ソフトウェアの版" in labels
    # codes in words: the groupings tried, how groups were formed, the relation to the town
    assert "2 グループ（主成分分析）" in evidence and "投票から計算" in evidence
    assert "pca k=" not in page and "clustered" not in page and "too_few_votes" not in page
    assert "投票総数が足りない" in page and "その票で提案が条件を満たした" in page
    # nested figures stay readable: one bracket per opinion group, groups counted from 1
    assert "（意見グループ：グループ1、人数：50" in evidence
    assert not re.search(r"\d\.\d{4}", evidence)
    # the machine-readable copy keeps every key and code
    records = client.get("/account/data.json").get_json()["records"]
    frozen = records["escalations"][0]["evidence"]
    assert frozen["coordination"]["without_blocks"]["reasons"] == ["too_few_votes"]
    assert frozen["snapshot"]["manifest"]["membership"] == "clustered"
    assert frozen["groups"][0]["group_id"] == 0
