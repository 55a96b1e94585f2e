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
    assert "回答には結論を選んでください" in html


@pytest.mark.parametrize("path", ["/", "/agenda/", "/privacy", "/auth/login",
                                  "/auth/register"])
def test_public_pages_read_in_japanese(client, path: str) -> None:
    assert_japanese(client.get(path, headers=JA), 200)
