"""The council's agenda export, read back as staff would open it: CSV in Excel (BOM,
Japanese headers, labels, Japan time, percentages, groups from 1, reasons), the English
file, the JSON with the same content, and the printed dossier."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from deliberation.database import db
from deliberation.engine import escalation as engine
from deliberation.jobs.runner import refresh_and_escalate
from deliberation.models import Escalation
from deliberation.services import agenda as service
from deliberation.services import moderation
from tests import factories

TOKYO = ZoneInfo("Asia/Tokyo")
MINUTE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")
PERCENT = re.compile(r"^\d{1,3}\.\d%$")


@pytest.fixture()
def agenda(planted):
    """Automatic escalations on the planted round, one answered with reasons, one
    withdrawn, and one put on the agenda by hand and then rejected by moderation."""
    refresh_and_escalate(planted.round.id)
    staff = factories.make_user("admin")
    auto = db.session.scalars(sa.select(Escalation).order_by(Escalation.id)).all()
    assert len(auto) >= 3
    service.update_response(
        auto[0].id, actor=staff, status="answered", outcome="partly_adopted",
        reasons="=HYPERLINK(\"https://evil.example\") budget is limited", answer="We will try.",
        department="Roads", plan_theme="Transport", plan_layer="sector_plan", due_at=None)
    engine.withdraw(auto[1].id, actor=staff, reason="Already decided by the council")
    manual = engine.escalate_manually(planted.side_a[0], actor=staff, reason="Many asked")
    moderation.moderate(planted.round, [planted.side_a[0]], "reject", actor=staff,
                        reason="Personal attack")
    return planted, auto, manual


def _csv(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers.getlist("Content-Type") == ["text/csv; charset=utf-8"]
    assert response.data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    text = response.data.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def _tokyo(value: datetime) -> str:
    return value.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M")


def test_csv_reads_back_in_japanese(agenda, client, login_as):
    _planted, auto, manual = agenda
    login_as("council")
    rows = {int(r["議題番号"]): r for r in _csv(client, "/agenda/council/export.csv")}
    assert set(rows) == {e.id for e in auto} | {manual.id}

    answered = rows[auto[0].id]
    assert answered["状況"] == "回答済み" and answered["結果"] == "一部採択"
    # The reason is kept, and a cell that starts like a formula is quoted for Excel.
    assert answered["結果の理由"] == "'=HYPERLINK(\"https://evil.example\") budget is limited"
    assert answered["計画の階層"] == "分野別計画" and answered["担当部署"] == "Roads"
    assert answered["議題入りの方法"] == "条件による（意見グループを越えた支持）"
    assert answered["ラウンド"] == "Planted groups" and answered["ラウンドの段階"] == "投票中"
    db.session.expire_all()
    esc = db.session.get(Escalation, auto[0].id)
    assert answered["議題入りの日時（日本時間）"] == _tokyo(esc.escalated_at)
    assert answered["回答日時（日本時間）"] == _tokyo(esc.response.answered_at)
    assert answered["回答期限（日本時間）"] == _tokyo(esc.response.due_at)
    for key in ("議題入りの日時（日本時間）", "回答日時（日本時間）", "回答期限（日本時間）"):
        assert MINUTE.match(answered[key]), answered[key]
    support = service.get_item(esc.id).support
    assert answered["支持（最も弱いグループの賛成の割合）"] == f"{support * 100:.1f}%"
    assert PERCENT.match(answered["規則が使う控えめな推定値"])
    assert answered["期限超過"] == "いいえ"
    groups = answered["意見グループごとの投票"].splitlines()
    assert groups[0].startswith("グループ1：") and groups[1].startswith("グループ2：")
    assert not any(g.startswith("グループ0") for g in groups)
    assert "賛成の割合" in groups[0] and "%" in groups[0]
    assert answered["頑健性"] and answered["橋渡しスコア"]  # the planted groups have both
    assert re.match(r"^-?\d\.\d\d$", answered["橋渡しスコア"])
    assert answered["橋渡しの説明"]

    withdrawn = rows[auto[1].id]
    assert withdrawn["状況"] == "取り下げ済み"
    assert withdrawn["取り下げの理由"] == "Already decided by the council"
    assert MINUTE.match(withdrawn["取り下げの日時（日本時間）"])

    rejected = rows[manual.id]
    assert rejected["提案文の公開"] == "非公開：モデレーションで却下"
    assert rejected["却下の理由"] == "Personal attack"
    assert rejected["議題入りの方法"] == "ファシリテーターによる"
    assert rejected["議題入りの理由"] == "Many asked"
    assert rows[auto[2].id]["提案文の公開"] == "公開"
    assert rows[auto[2].id]["却下の理由"] == ""


def test_csv_in_english_on_request(agenda, client, login_as):
    _planted, auto, manual = agenda
    login_as("council")
    for url, headers in (("/agenda/council/export.csv?lang=en", {}),
                         ("/agenda/council/export.csv", {"Accept-Language": "en"})):
        response = client.get(url, headers=headers)
        rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
        answered = next(r for r in rows if int(r["Agenda item number"]) == auto[0].id)
        assert answered["Status"] == "Answered" and answered["Outcome"] == "Partly adopted"
        assert answered["Votes per opinion group"].startswith("Group 1: ")
        rejected = next(r for r in rows if int(r["Agenda item number"]) == manual.id)
        assert rejected["Publication of the text"] == "Not public: rejected by moderation"
        assert rejected["Reason for the rejection"] == "Personal attack"
        # the file's name says its language: both downloads keep their own name
        assert 'filename="agenda-en.csv"' in response.headers["Content-Disposition"]
    # An unknown language is ignored (the file comes in the default language).
    response = client.get("/agenda/council/export.csv?lang=xx")
    assert response.status_code == 200 and "議題番号".encode() in response.data
    assert 'filename="agenda-ja.csv"' in response.headers["Content-Disposition"]
    for url, name in (("/facilitate/audit?format=csv&lang=en", "audit-all-en.csv"),
                      ("/facilitate/dashboard?format=csv", "engagement-all-ja.csv")):
        login_as("facilitator")
        response = client.get(url)
        assert response.status_code == 200, url
        assert f'filename="{name}"' in response.headers["Content-Disposition"]


def test_json_has_the_same_content_as_the_csv(agenda, client, login_as):
    _planted, auto, manual = agenda
    login_as("council")
    rows = _csv(client, "/agenda/council/export.csv")
    response = client.get("/agenda/council/export.json")
    assert response.headers.getlist("Content-Type") == ["application/json"]
    body = response.get_json()
    labels = [c["label"] for c in body["columns"]]
    assert labels == list(rows[0].keys())
    keys = [c["key"] for c in body["columns"]]
    for item, row in zip(body["items"], rows, strict=True):
        assert [str(item["display"][k]) for k in keys] == [
            # the CSV quotes formula-like text; the JSON keeps it as written
            value.removeprefix("'") for value in row.values()]
    answered = next(i for i in body["items"] if i["escalation_id"] == auto[0].id)
    assert answered["status"] == "answered" and answered["outcome"] == "partly_adopted"
    assert answered["reasons"].startswith("=HYPERLINK")
    assert [g["number"] for g in answered["groups"]] == [1, 2]
    assert answered["robustness_words"] and answered["bridging_words"]
    rejected = next(i for i in body["items"] if i["escalation_id"] == manual.id)
    assert rejected["text_withheld"] == "rejected"
    assert rejected["rejection_reason"] == "Personal attack"
    assert rejected["escalation_reason"] == "Many asked"


def test_dossier_shows_reasons_labels_and_groups(agenda, client, login_as):
    planted, auto, manual = agenda
    login_as("council")
    page = client.get(f"/agenda/council/rounds/{planted.round.slug}/dossier")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "一部採択" in html and "budget is limited" in html  # outcome and its reasons
    assert "Already decided by the council" not in html  # withdrawn: not in the round's
    assert "Personal attack" in html and "非公開：モデレーションで却下" in html
    assert "グループ1" in html and "グループ0" not in html
    support = service.get_item(auto[0].id).support
    assert f"{support * 100:.1f}%" in html
    item = client.get(f"/agenda/council/items/{manual.id}/dossier").get_data(as_text=True)
    assert "Many asked" in item and "Personal attack" in item
    item = client.get(f"/agenda/council/items/{auto[1].id}/dossier").get_data(as_text=True)
    assert "Already decided by the council" in item and "取り下げの理由" in item


def test_cli_export_is_the_same_csv(agenda, app, client, login_as, tmp_path):
    login_as("council")
    over_http = client.get("/agenda/council/export.csv").data
    output = tmp_path / "agenda.csv"
    result = app.test_cli_runner().invoke(
        args=["agenda", "export", "--format", "csv", "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert output.read_bytes() == over_http


def test_export_of_an_unknown_round_is_not_found(agenda, client, login_as):
    login_as("council")
    assert client.get("/agenda/council/export.csv?round=nope").status_code == 404


def test_the_printed_dossier_shows_times_as_the_pages_do(agenda, client, login_as):
    """A printed page read 議題入りの日時 2026-09-17 10:00 above 議会に届けた時点
    （2026/09/17 10:00）: the facts take the site's form, the CSV keeps its own."""
    from app.downloads import local_time

    _planted, auto, _manual = agenda
    login_as("council")
    escalated = service.get_item(auto[0].id).escalation.escalated_at
    html = client.get(f"/agenda/council/items/{auto[0].id}/dossier",
                      headers={"Accept-Language": "ja"}).get_data(as_text=True)
    tokyo = escalated.astimezone(ZoneInfo("Asia/Tokyo"))
    assert f"<dd>{tokyo:%Y/%m/%d} {tokyo.hour}:{tokyo:%M}</dd>" in html
    assert local_time(escalated) not in html
    csv_text = client.get("/agenda/council/export.csv").get_data(as_text=True)
    assert local_time(escalated) in csv_text
