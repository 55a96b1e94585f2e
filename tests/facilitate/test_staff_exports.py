"""The audit log and engagement downloads, read back as staff open them in Excel: UTF-8
with BOM, headers and labels in Japanese (English with ``?lang=en``), no codes in cells,
Japan time to the minute, small counts withheld as on the pages."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.template_helpers import ACTION_LABELS
from deliberation.models import AuditEntry, VoteEvent, utcnow
from deliberation.services import facilitation, moderation
from tests import factories
from tests.facilitate.conftest import EN

TOKYO = ZoneInfo("Asia/Tokyo")
MINUTE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")
AUDIT_HEADERS_JA = ["記録番号", "日時（日本時間）", "操作した人の役割", "操作した人（仮名）", "操作",
                    "対象の種類", "対象（番号または仮名）", "ラウンド", "理由", "記録の詳細"]
AUDIT_HEADERS_EN = ["Entry number", "When (Japan time)", "Role of the person who acted",
                    "Person who acted (pseudonym)", "Action", "Kind of target",
                    "Target (number or pseudonym)", "Round", "Reason",
                    "Details of the entry"]
CODES = {"proposal.reject", "proposal.submit", "round.close", "facilitator", "citizen",
         "proposals", "rounds", "resident", "e_citizen"}


def _download(client, url, headers=None) -> list[list[str]]:
    response = client.get(url, headers=headers or {})
    assert response.status_code == 200
    assert response.headers.getlist("Content-Type") == ["text/csv; charset=utf-8"]
    assert response.data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))


def _moderated_round():
    round_ = factories.make_round(slug="ex", title="駅前の広場", phase="voting")
    staff = factories.make_user("facilitator")
    author = factories.make_participant(round_, factories.make_user(kind="resident"))
    proposal = factories.make_proposal(round_, "ベンチを増やす", author_id=author.id,
                                       status="pending")
    moderation.moderate(round_, [proposal.id], "reject", actor=staff, reason="重複しています")
    facilitation.transition(round_, "close", actor=staff, reason="期間終了")
    return round_, proposal


def test_audit_csv_reads_back_in_japanese(client, facilitator, db):
    _round, proposal = _moderated_round()
    rows = _download(client, "/facilitate/rounds/ex/audit?format=csv")
    assert rows[0] == AUDIT_HEADERS_JA
    entries = {int(r[0]): dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    reject = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "proposal.reject"))
    row = entries[reject.id]
    assert row["操作"] == "提案を却下" and row["理由"] == "重複しています"
    assert row["操作した人の役割"] == "ファシリテーター" and re.fullmatch(r"[0-9a-f]{8}",
                                                                row["操作した人（仮名）"])
    assert row["対象の種類"] == "提案" and row["対象（番号または仮名）"] == str(proposal.id)
    assert row["ラウンド"] == "駅前の広場"
    assert MINUTE.match(row["日時（日本時間）"])
    assert row["日時（日本時間）"] == reject.created_at.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M")
    close = next(r for r in entries.values() if r["操作"] == "ラウンドを終了")
    assert close["理由"] == "期間終了"
    # labels, not codes, in the details too: every field the action wrote, in words
    assert not CODES & {cell for r in rows for cell in r}
    # a label and its value joined as Japanese writes them (full-width colon, no space)
    assert row["記録の詳細"] == "変更前の状態：確認待ち、変更後の状態：却下"
    assert close["記録の詳細"] == "変更前の段階：投票中、変更後の段階：終了"
    assert not [c for r in rows for c in r if "{" in c or "status" in c or "phase" in c]
    # newest first, like the page
    assert [int(r[0]) for r in rows[1:]] == sorted((int(r[0]) for r in rows[1:]), reverse=True)


def test_audit_csv_in_english_on_request(client, facilitator, db):
    _moderated_round()
    for url, headers in (("/facilitate/audit?format=csv&lang=en", {}),
                         ("/facilitate/audit?format=csv", EN)):
        rows = _download(client, url, headers)
        assert rows[0] == AUDIT_HEADERS_EN
        actions = {r[4] for r in rows[1:]}
        assert {"Proposal rejected", "Round closed"} <= actions
        # English lists with commas, not Japanese punctuation
        details = {r[4]: r[AUDIT_HEADERS_EN.index("Details of the entry")] for r in rows[1:]}
        assert details["Round closed"] == "Phase before: Voting, Phase after: Closed"
    # ... and Japanese when an English reader asks for it; an unknown language is ignored
    assert _download(client, "/facilitate/audit?format=csv&lang=ja", EN)[0] == AUDIT_HEADERS_JA
    assert _download(client, "/facilitate/audit?format=csv&lang=xx")[0] == AUDIT_HEADERS_JA


def test_audit_page_links_the_other_language(client, facilitator, db):
    page = client.get("/facilitate/audit").get_data(as_text=True)
    assert 'href="/facilitate/audit?format=csv&amp;lang=en"' in page
    page = client.get("/facilitate/audit", headers=EN).get_data(as_text=True)
    assert 'href="/facilitate/audit?format=csv&amp;lang=ja"' in page


def test_audit_csv_details_are_words_and_formula_neutral(client, facilitator, db):
    """A planted formula in a recorded field stays text, and the details are words."""
    round_ = factories.make_round(slug="fx", title="=HYPERLINK(\"http://x\")", phase="voting")
    staff = factories.make_user("facilitator")
    facilitation.create_assisted_participant(round_, actor=staff, label="=1+2", kind="resident")
    facilitation.update_round(round_, actor=staff, title=round_.title, moderation_mode="strict",
                             report_threshold=7)
    rows = _download(client, "/facilitate/rounds/fx/audit?format=csv")
    entries = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assisted = next(r for r in entries if r["操作"] == "代理入力の参加者を追加")
    assert assisted["記録の詳細"] == "名前：=1+2、まちとの関わり：住民"
    changed = next(r for r in entries if r["操作"] == "ラウンドの設定を変更")
    assert changed["記録の詳細"].startswith("変更した項目：（")
    # the choice's own colon is quoted, so it does not read as a second label
    assert "モデレーション：「事前確認：新しい提案は承認されてから公開」" in changed["記録の詳細"]
    assert "提案を非表示にするまでの通報件数：7" in changed["記録の詳細"]
    assert all(r["ラウンド"] == "'=HYPERLINK(\"http://x\")" for r in entries)
    assert not [c for r in rows for c in r if c[:1] in ("=", "+", "-", "@")]


def _recorded_keys() -> set[str]:
    """The keyword names every audit.record call (and a verification's details) writes."""
    import ast

    root = Path(__file__).resolve().parents[2]
    found: set[str] = set()
    for path in [*(root / "deliberation").rglob("*.py"), *(root / "app").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name)
                    and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                        "record", "_verify")):
                found |= {k.arg for k in node.keywords if k.arg}
    return found - {"actor", "target", "round_id", "reason"}


def test_every_recorded_detail_has_words(app):
    """A new field in an audit entry fails here until the CSV and the data page name it."""
    from flask_babel import force_locale

    from app import stored_words
    from deliberation.services.facilitation import ROUND_FIELDS

    keys = _recorded_keys()
    assert {"status_before", "changed", "block_sizes", "document"} <= keys  # the scan works
    # a round's changed settings and a response's previous state are mappings of these
    keys |= set(ROUND_FIELDS) | {"status", "outcome", "due_at"}
    with app.test_request_context(), force_locale("ja"):
        assert sorted(k for k in keys if stored_words.key_label(k) == k) == []


def test_the_umap_evidence_names_its_processor_and_numba(app):
    from flask_babel import force_locale

    from app import stored_words

    with app.test_request_context(), force_locale("ja"):
        assert stored_words.key_label("processor", "versions") == \
            "プロセッサの種類（UMAP の配置はこれに合わせて計算）"
        assert stored_words.key_label("numba", "versions") == "Numba"


def test_every_recorded_action_has_a_label():
    from deliberation.models.review import REVIEW_STATUSES
    from deliberation.services.facilitation import TRANSITIONS
    from deliberation.services.moderation import ACTIONS

    built = {
        "round.{action}": {f"round.{a}" for a in TRANSITIONS},
        "proposal.{action}": {f"proposal.{a}" for a in ACTIONS},
        "escalation.{kind}": {"escalation.automatic", "escalation.manual"},
        "escalation.review_{review.status}": {
            f"escalation.review_{s}" for s in REVIEW_STATUSES if s in ("approved", "dismissed")},
    }
    found: set[str] = set()
    root = Path(__file__).resolve().parents[2]
    for path in (root / "deliberation").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        for call in re.finditer(r"\brecord\((.*?)\bactor=", source, flags=re.S):
            for fstring, name in re.findall(r'(f?)"([a-z_.{}]+)"', call.group(1)):
                if fstring:
                    assert name in built, f"{path.name}: name the values of {name}"
                    found |= built[name]
                else:
                    found.add(name)
    assert len(found) > 30  # the scan found the calls
    assert sorted(found - set(ACTION_LABELS)) == []


def test_dashboard_csv_reads_back_in_japanese(client, facilitator, db):
    round_ = factories.make_round(slug="d2", phase="voting")
    proposal = factories.make_proposal(round_, "A")
    factories.make_proposal(round_, "待っている提案", status="pending")
    residents = [factories.make_participant(round_, factories.make_user(kind="resident"))
                 for _ in range(6)]
    e_citizen = factories.make_participant(round_, factories.make_user(kind="e_citizen"))
    now = utcnow()
    for i, who in enumerate([*residents, e_citizen]):
        db.session.add(VoteEvent(round_id=round_.id, participant_id=who.id, value=1,
                                 proposal_id=proposal.id, created_at=now - timedelta(days=i % 2)))
    db.session.commit()
    rows = _download(client, "/facilitate/rounds/d2/dashboard?format=csv")
    assert rows[0] == ["日付（日本時間）", "投票", "新しい提案", "参加者の累計：住民"]
    days = rows[1:rows.index([])]
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", day[0]) for day in days)
    assert sum(int(day[1]) for day in days) == 7
    figures = dict(r for r in rows[rows.index([]) + 1:])
    assert figures["項目"] == "値"
    assert figures["参加者：住民"] == "6" and figures["参加者：関係人口（eシチズン）"] == "5人未満"
    assert figures["投票した参加者"] == "7" and figures["モデレーション待ち"] == "1"
    assert not CODES & {cell for r in rows for cell in r}

    english = _download(client, "/facilitate/rounds/d2/dashboard?format=csv&lang=en")
    assert english[0] == ["Day (Japan time)", "Votes", "New proposals",
                          "Participants so far: Resident"]
    figures = dict(r for r in english[english.index([]) + 1:])
    assert figures["Participants: E-citizen"] == "fewer than 5"


def test_citizens_cannot_download_the_staff_files(client, login_as, db):
    factories.make_round(slug="d3", phase="voting")
    login_as("citizen")
    for url in ("/facilitate/audit?format=csv", "/facilitate/rounds/d3/dashboard?format=csv",
                "/facilitate/rounds/d3/audit?format=csv&lang=en"):
        assert client.get(url).status_code == 403
