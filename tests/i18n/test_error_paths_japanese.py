"""Every error path reads in Japanese on a Japanese page.

Two checks: by construction, the domain layer raises errors only with ``N_``-marked
messages whose placeholders it fills (tests/test_translations.py then makes sure each has
a Japanese translation); and by walking the error paths (forms with bad input, domain
errors, 4xx pages, htmx fragments) with ``Accept-Language: ja`` and failing on any English
sentence in the page's text.
"""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest

from tests.facilitate.test_rounds import VALID
from tests.factories import make_proposal

REPO = Path(__file__).resolve().parents[2]
ERROR_CLASSES = {"DomainError", "NotAllowed", "NotFound", "Conflict"}
JA = {"Accept-Language": "ja"}
HX = {**JA, "HX-Request": "true"}
# Three English words in a row: a sentence (or part of one) that was not translated.
ENGLISH = re.compile(r"[A-Za-z][a-z']+(?:[ ,:;]+[A-Za-z][a-z']+){2,}")


def _raised_errors() -> list[tuple[str, ast.Call]]:
    found = []
    for path in [*REPO.glob("deliberation/**/*.py"), *REPO.glob("app/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ERROR_CLASSES and node.args):
                found.append((f"{path.relative_to(REPO)}:{node.lineno}", node))
    return found


def test_domain_errors_are_raised_with_marked_messages_and_their_values() -> None:
    found = _raised_errors()
    assert len(found) > 50
    wrong = []
    for where, call in found:
        message = call.args[0]
        if isinstance(message, (ast.Constant, ast.JoinedStr, ast.BinOp)):
            wrong.append(f"{where}: an unmarked message (wrap it in N_)")
        if (isinstance(message, ast.Call) and isinstance(message.func, ast.Name)
                and message.func.id == "N_"):
            text = message.args[0].value
            given = {k.arg for k in call.keywords}
            missing = set(re.findall(r"%\((\w+)\)", text)) - given
            if missing:
                wrong.append(f"{where}: no value for {sorted(missing)}")
    assert not wrong, wrong


class _VisibleText(HTMLParser):
    """The text a person reads, without scripts, styles, code and parts marked English."""

    SKIP: ClassVar[set[str]] = {"script", "style", "code", "title"}
    VOID: ClassVar[set[str]] = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
            "source", "track", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.stack: list[bool] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self.VOID:
            return
        skip = tag in self.SKIP or dict(attrs).get("lang") == "en"
        self.stack.append(skip or (bool(self.stack) and self.stack[-1]))

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1]):
            self.parts.append(data)


def english_in(html: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(html)
    return ENGLISH.findall(" ".join(parser.parts))


def assert_japanese(response, *statuses: int) -> str:
    html = response.get_data(as_text=True)
    if statuses:
        assert response.status_code in statuses, (response.status_code, html[html.find("<main"):][:1500])
    assert not english_in(html), english_in(html)
    return html


def test_the_detector_finds_an_english_sentence() -> None:
    assert english_in("<p>このメールアドレスの An account with this email exists.</p>")
    assert not english_in('<p>広場 Hiroba</p><button lang="en">English version here</button>')


def test_account_forms_with_bad_input(client, make_user) -> None:
    make_user(email="taken@example.org")
    html = assert_japanese(client.post("/auth/register", headers=JA, data={
        "email": "taken@example.org", "display_name": "山田", "kind": "resident",
        "password": "short", "password2": "other", "consent": ""}), 400)
    assert "パスワードは8文字以上にしてください" in html
    html = assert_japanese(client.post("/auth/register", headers=JA, data={
        "email": "new@example.org", "display_name": "山田", "kind": "resident",
        "password": "new@example.org", "password2": "new@example.org", "consent": "y"}), 400)
    assert "パスワード" in html
    assert_japanese(client.post("/auth/register", headers=JA, data={"email": "not-an-address"}),
                    400)
    assert_japanese(client.post("/auth/login", headers=JA, data={
        "email": "taken@example.org", "password": "wrong password"}), 400)


def test_change_password_with_a_wrong_current_password(client, login_as) -> None:
    login_as()
    html = assert_japanese(client.post("/auth/password", headers=JA, data={
        "current": "wrong password", "password": "new password 123",
        "password2": "new password 123"}), 400)
    assert "現在のパスワードが正しくありません" in html


def test_participation_errors(client, login_as, make_round) -> None:
    login_as()
    round_ = make_round(phase="collecting", title="まちづくり")
    proposal = make_proposal(round_, "公園にベンチを増やす")
    assert_japanese(client.post(f"/rounds/{round_.slug}/propose", headers=JA,
                                data={"text": "   "}), 400)
    assert_japanese(client.post(f"/rounds/{round_.slug}/propose", headers=JA,
                                data={"text": "あ" * 5000}), 400)
    assert_japanese(client.post(f"/rounds/{round_.slug}/propose", headers=JA,
                                data={"text": "公園にベンチを増やす"}), 409)
    assert_japanese(client.post(f"/rounds/{round_.slug}/proposals/{proposal.id}/report",
                                headers=JA, data={"reason": ""}), 400)
    # htmx vote with a bad value: the card carries the translated error
    assert_japanese(client.post(f"/rounds/{round_.slug}/vote", headers=HX,
                                data={"proposal_id": proposal.id, "value": "7"}), 200)
    closed = make_round(phase="closed", title="終了したラウンド")
    closed_proposal = make_proposal(closed, "図書館を夜まで開ける")
    html = assert_japanese(client.get(f"/rounds/{closed.slug}/vote", headers=JA), 200)
    assert "この提案に賛成ですか" not in html
    assert_japanese(client.post(f"/rounds/{closed.slug}/vote", headers=HX,
                                data={"proposal_id": closed_proposal.id, "value": "1"}), 200)


def test_http_error_pages_and_fragments(client, login_as, make_round) -> None:
    assert_japanese(client.get("/no/such/page", headers=JA), 404)
    assert_japanese(client.get("/no/such/page", headers=HX), 404)
    login_as()
    assert_japanese(client.get("/facilitate/", headers=JA), 403)
    response = client.get("/facilitate/", headers=HX)
    assert_japanese(response, 403)
    assert response.headers["HX-Retarget"] == "#htmx-errors"


def test_facilitator_errors(client, login_as, make_round) -> None:
    login_as("facilitator")
    round_ = make_round(phase="voting", title="まちづくり", slug="machi")
    proposal = make_proposal(round_, "駅前に駐輪場を", status="pending")
    form = {**VALID, "title": "新しいラウンド", "summary": "要約", "description": "説明",
            "background_links": "計画 | https://example.org/plan"}
    html = assert_japanese(client.post("/facilitate/rounds/new", headers=JA,
                                       data={**form, "slug": "Bad Slug!"}), 400)
    assert "アドレスには半角の英小文字" in html
    html = assert_japanese(client.post("/facilitate/rounds/new", headers=JA,
                                       data={**form, "slug": "machi"}), 400)
    assert "このアドレスのラウンドはすでにあります" in html
    html = assert_japanese(client.post("/facilitate/rounds/new", headers=JA, data={
        **form, "slug": "new-one", "max_groups": "20", "closes_at": "2026-11-30T09:00",
        "confidence": "abc"}), 400)
    assert "2以上12以下の数を入力してください" in html
    # moderation: reject without a reason, with and without htmx; the ticked box stays ticked
    for headers in (JA, HX):
        html = assert_japanese(client.post(f"/facilitate/rounds/{round_.slug}/moderation",
                                           headers=headers, data={
                                               "proposal_id": proposal.id, "action": "reject",
                                               "reason": ""}), 400)
        assert "提案を却下するには理由が必要です" in html
        # the button, the reason's label and the error name the action with one word
        assert "選択した提案を却下" in html and "理由（却下する場合は必須" in html
        assert "不採用" not in html  # not a second word for the same decision
        assert re.search(rf'value="{proposal.id}"\s+checked', html)


def test_council_answer_without_outcome(client, login_as, make_round, db) -> None:
    from deliberation.engine import escalation

    facilitator = login_as("facilitator")
    round_ = make_round(phase="voting", title="まちづくり")
    proposal = make_proposal(round_, "バスの本数を増やす")
    item = escalation.escalate_manually(proposal.id, actor=facilitator, reason="町民集会で議論")
    login_as("council")
    html = assert_japanese(client.post(f"/agenda/council/items/{item.id}/response", headers=JA,
                                       data={"status": "answered", "outcome": "",
                                             "reasons": "", "answer": ""}), 400)
    assert "結果（採択・一部採択・不採択）を選んでください" in html


@pytest.mark.parametrize("path", ["/", "/agenda/", "/privacy", "/auth/login",
                                  "/auth/register"])
def test_public_pages_read_in_japanese(client, path: str) -> None:
    assert_japanese(client.get(path, headers=JA), 200)


def _upload(files: dict[str, tuple[bytes, str]]) -> dict:
    import io

    return {name: (io.BytesIO(data), filename) for name, (data, filename) in files.items()}


def test_polis_import_errors(app, client, login_as, tmp_path) -> None:
    from deliberation.jobs import polis_imports

    app.config["IMPORT_FOLDER"] = str(tmp_path)
    login_as("facilitator")
    form = {"slug": "import-1", "phase": "voting", "title": ""}
    html = assert_japanese(client.post("/facilitate/import", headers=JA,
                                       content_type="multipart/form-data", data={
                                           **form, **_upload({"archive": (b"no zip", "x.zip")})}),
                           400)
    assert "zipファイルではありません" in html
    comments = (b"timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,"
                b"comment-body\n1403057082753,x,0,1,0,0,1,hello\n")
    votes = b"timestamp,datetime,comment-id,voter-id,vote\n1,x,0,1,2\n1,x,0,2,yes\n"
    queued = client.post("/facilitate/import", headers=JA,
                         content_type="multipart/form-data", data={
                             **form, **_upload({"comments": (comments, "comments.csv"),
                                                "votes": (votes, "votes.csv")})})
    assert queued.status_code == 303  # the background worker reads the files
    polis_imports.run_once(tmp_path)
    html = assert_japanese(client.get(queued.headers["Location"], headers=JA), 200)
    assert "votes.csv の2行目、「vote」列：「2」は -1、0、1 のいずれでもありません。" in html
    html = assert_japanese(client.post("/facilitate/import", headers=JA,
                                       content_type="multipart/form-data", data={
                                           **form, "slug": "import-2", **_upload({
                                               "comments": (comments, "comments.csv")})}), 400)
    assert "votes.csv" in html
    assert_japanese(client.post("/facilitate/import", headers=JA, data={
        **form, "slug": "Bad Slug"}), 400)


def test_escalation_errors(client, login_as, make_round, db) -> None:
    from deliberation.engine import escalation

    facilitator = login_as("facilitator")
    round_ = make_round(phase="voting", title="まちづくり", slug="machi")
    proposal = make_proposal(round_, "バスの本数を増やす")
    other = make_proposal(round_, "図書館を夜まで開ける")
    path = f"/agenda/manage/rounds/{round_.slug}/escalate"
    assert_japanese(client.get(path, headers=JA), 200)
    assert_japanese(client.get(path + "?q=" + "あ" * 300, headers=JA))
    for data in ({"proposal_id": proposal.id, "reason": ""},
                 {"proposal_id": "", "reason": "町民集会で議論"},
                 {"proposal_id": "999999", "reason": "町民集会で議論"},
                 {"proposal_id": "abc", "reason": "町民集会で議論"},
                 {"proposal_id": proposal.id, "reason": "あ" * 3000}):
        assert_japanese(client.post(path, headers=JA, data=data), 400)
    item = escalation.escalate_manually(other.id, actor=facilitator, reason="町民集会で議論")
    assert_japanese(client.post(path, headers=JA, data={"proposal_id": other.id,
                                                       "reason": "もう一度"}), 400)
    withdraw = f"/agenda/manage/items/{item.id}/withdraw"
    assert_japanese(client.get(withdraw, headers=JA), 200)
    assert_japanese(client.post(withdraw, headers=JA, data={"reason": ""}), 400)
    # Arming twice, and held escalations decided wrongly: flash messages on the round page.
    from deliberation.models import EscalationReview

    meta = make_proposal(round_, "この話し合いの進め方について", is_meta=True)
    review = EscalationReview(proposal_id=meta.id, round_id=round_.id, evidence={})
    db.session.add(review)
    db.session.commit()
    posts = [("escalation", {"action": "arm"}), ("escalation", {"action": "arm"}),
             (f"reviews/{review.id}", {"action": "bogus", "reason": "理由"}),
             (f"reviews/{review.id}", {"action": "approve", "reason": ""}),
             (f"reviews/{review.id}", {"action": "approve", "reason": "理由"})]
    flashed = []
    for where, data in posts:
        response = client.post(f"/facilitate/rounds/{round_.slug}/{where}", headers=JA,
                               data=data)
        assert response.status_code == 303
        html = assert_japanese(client.get(f"/facilitate/rounds/{round_.slug}", headers=JA),
                               200)
        flashed.append(re.findall(r'class="flash[^"]*error[^"]*"[^>]*>(.*?)<', html, re.S))
    assert "すでに" in str(flashed[1])
    assert all(flashed[1:]), flashed


def test_council_errors(client, login_as, make_round) -> None:
    from deliberation.engine import escalation

    facilitator = login_as("facilitator")
    round_ = make_round(phase="voting", title="まちづくり")
    proposal = make_proposal(round_, "バスの本数を増やす")
    item = escalation.escalate_manually(proposal.id, actor=facilitator, reason="町民集会で議論")
    login_as("council")
    path = f"/agenda/council/items/{item.id}/response"
    for data in ({"status": "bogus"}, {"status": "answered", "outcome": "bogus"},
                 {"status": "answered", "outcome": "adopted", "reasons": "",
                  "answer": "", "due_at": "not a date"},
                 {"status": "answered", "outcome": "adopted", "answer": "あ" * 20001}):
        assert_japanese(client.post(path, headers=JA, data=data), 400)
    assert_japanese(client.get(f"/agenda/council/items/{item.id}", headers=JA), 200)
    assert_japanese(client.get("/agenda/council/", headers=JA), 200)
    assert_japanese(client.get("/agenda/council/export.xml", headers=JA), 404)


def test_round_edit_and_seed_errors(client, login_as, make_round) -> None:
    login_as("facilitator")
    round_ = make_round(phase="voting", title="まちづくり", slug="machi")
    form = {**VALID, "title": "", "summary": "", "description": ""}
    assert_japanese(client.post(f"/facilitate/rounds/{round_.slug}/edit", headers=JA,
                                data=form), 400)
    assert_japanese(client.post(f"/facilitate/rounds/{round_.slug}/edit", headers=JA, data={
        **VALID, "title": "まちづくり", "opens_at": "2026-12-01T09:00",
        "closes_at": "2026-11-01T09:00"}), 400)
    assert_japanese(client.post(f"/facilitate/rounds/{round_.slug}/seeds", headers=JA,
                                data={"text": ""}), 400)
    assert_japanese(client.post(f"/facilitate/rounds/{round_.slug}/phase", headers=JA,
                                data={"phase": "bogus"}), 400)
    assert_japanese(client.get(f"/facilitate/rounds/{round_.slug}/audit?q=" + "x" * 300,
                               headers=JA))
    assert_japanese(client.get("/facilitate/audit?q=%25", headers=JA), 200)


def test_verification_errors(client, login_as, make_user) -> None:
    resident = make_user(email="resident@example.org", display_name="住民")
    login_as("admin")
    assert_japanese(client.post(f"/verify/users/{resident.id}/counter", headers=JA,
                                data={"document": "bogus"}), 400)
    assert_japanese(client.post(f"/verify/users/{resident.id}/revoke", headers=JA,
                                data={"reason": ""}), 400)
    assert_japanese(client.post("/verify/postal-codes", headers=JA,
                                data={"count": "0", "valid_days": "abc", "batch": ""}), 400)
    assert_japanese(client.get("/verify/?q=" + "%25" * 50, headers=JA), 200)
    assert_japanese(client.get("/admin/users?q=" + "x" * 300, headers=JA))
    assert_japanese(client.post(f"/admin/users/{resident.id}/role", headers=JA,
                                data={"role": "king"}), 400)
    login_as()
    assert_japanese(client.post("/account/verification/code", headers=JA,
                                data={"code": "WRONG-CODE"}), 400)
    assert_japanese(client.post("/account/verification/code", headers=JA,
                                data={"code": ""}), 400)


def test_search_errors(client, make_round) -> None:
    round_ = make_round(phase="voting", title="まちづくり")
    make_proposal(round_, "公園にベンチを増やす")
    for query in ("q=" + "あ" * 300, "sort=bogus", "status=bogus", "page=abc",
                  "page=99999999999999999999", "q=%25_"):
        assert_japanese(client.get(f"/rounds/{round_.slug}/proposals?{query}", headers=JA))
        assert_japanese(client.get(f"/agenda/?{query}", headers=JA))


def test_every_form_words_wtforms_field_messages_in_hirobas_words(app) -> None:
    import importlib
    import pkgutil

    from flask_wtf import FlaskForm

    import app as app_package
    from app.forms import HirobaForm

    for module in pkgutil.walk_packages(app_package.__path__, "app."):
        importlib.import_module(module.name)
    found, stack = [], [FlaskForm]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if sub.__module__.startswith("app.") and sub is not HirobaForm:
                found.append(sub)
    assert len(found) > 15
    wrong = [f"{f.__module__}.{f.__name__}" for f in found if not issubclass(f, HirobaForm)]
    assert not wrong, f"derive these forms from app.forms.HirobaForm: {wrong}"


def test_fields_that_cannot_read_their_input_say_so_naturally(client, login_as, make_round,
                                                                make_user) -> None:
    resident = make_user(email="resident@example.org", display_name="住民")
    login_as("admin")
    html = assert_japanese(client.post("/verify/postal-codes", headers=JA, data={
        "count": "abc", "valid_days": "30", "batch": "11月発送"}), 400)
    assert "整数で入力してください。" in html and "無効な整数です" not in html
    # ... and only that: no range or second message about a number nobody typed
    assert "1〜5000件" not in html
    make_round(phase="voting", title="まちづくり", slug="machi")
    html = assert_japanese(client.post("/facilitate/rounds/machi/edit", headers=JA, data={
        **VALID, "title": "まちづくり", "closes_at": "いつか"}), 400)
    assert "日付と時刻を入力してください。" in html and "無効な時間型です" not in html
    html = assert_japanese(client.post(f"/verify/users/{resident.id}/counter", headers=JA,
                                       data={"document": "bogus"}), 400)
    assert "選択肢から選んでください。" in html
