"""The staff's `flask` commands answer in the terminal's language: a refusal is one line in
natural Japanese under a Japanese locale, stores nothing and ends with a non-zero status."""

from __future__ import annotations

import re

import click
import pytest
import sqlalchemy as sa

from deliberation.models import AuditEntry, Round, User

JA = {"LC_ALL": None, "LC_MESSAGES": None, "LANG": "ja_JP.UTF-8"}
EN_TERMINAL = {"LC_ALL": None, "LC_MESSAGES": None, "LANG": "en_US.UTF-8"}


def count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.parametrize("args", [
    ["agenda", "arm", "nope", "--yes"],
    ["agenda", "open-data", "nope", "--output", "unused.zip"],
    ["cluster", "run", "nope"],
])
def test_an_unknown_round_is_refused_in_japanese(runner, db, args) -> None:
    result = runner.invoke(args=args, env=JA)
    assert result.exit_code == 1
    assert result.output == "エラー: アドレスが「nope」のラウンドはありません。\n"
    assert count(db, AuditEntry) == 0


def test_the_domain_refuses_arming_in_japanese_and_nothing_is_stored(runner, db,
                                                                     make_round) -> None:
    round_ = make_round(phase="voting", escalation_armed=True)
    result = runner.invoke(args=["agenda", "arm", round_.slug, "--yes"], env=JA)
    assert result.exit_code == 1
    assert "エラー: このラウンドの自動送付はすでに有効です。" in result.output
    assert count(db, AuditEntry) == 0


def test_declining_to_arm_is_said_in_japanese_and_arms_nothing(runner, db, make_round) -> None:
    round_ = make_round(phase="voting", escalation_armed=False)
    result = runner.invoke(args=["agenda", "arm", round_.slug], input="n\n", env=JA)
    assert result.exit_code == 1
    assert "今有効にすると議会に送付される提案：0件" in result.output
    assert "このラウンドで議会への自動送付を有効にしますか？" in result.output
    assert "エラー: 自動送付は有効にしませんでした。" in result.output
    assert "Aborted" not in result.output
    db.session.expire_all()
    assert db.session.get(Round, round_.id).escalation_armed is False
    assert count(db, AuditEntry) == 0

    result = runner.invoke(args=["agenda", "arm", round_.slug], input="y\n", env=JA)
    assert result.exit_code == 0, result.output
    assert "自動送付を有効にしました。0件の提案を議会に送付しました。" in result.output
    db.session.expire_all()
    assert db.session.get(Round, round_.id).escalation_armed is True


def test_arming_from_the_terminal_leaves_no_command_name_in_the_audit_log(
        runner, client, login_as, db, make_round) -> None:
    round_ = make_round(phase="voting", escalation_armed=False)
    assert runner.invoke(args=["agenda", "arm", round_.slug, "--yes"], env=JA).exit_code == 0
    assert db.session.scalar(sa.select(AuditEntry.action)) == "round.escalation_armed"
    login_as("facilitator")
    page = client.get(f"/facilitate/rounds/{round_.slug}/audit",
                      headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "議会への自動送付を開始" in page
    assert "flask" not in page


def test_accounts_are_refused_in_japanese(runner, db, make_user) -> None:
    make_user(email="taken@example.org")
    result = runner.invoke(args=["users", "create", "--email", "taken@example.org",
                                 "--password", "long enough password"], env=JA)
    assert result.exit_code == 1
    assert result.output.startswith("エラー: ") and "already" not in result.output
    result = runner.invoke(args=["users", "set-role", "nobody@example.org", "council"], env=JA)
    assert result.exit_code == 1
    assert result.output == "エラー: メールアドレス nobody@example.org のアカウントはありません。\n"
    assert count(db, User) == 1


def test_the_same_refusal_reads_in_english_under_another_locale(runner, db) -> None:
    result = runner.invoke(args=["agenda", "arm", "nope", "--yes"])  # LANG=en_US.UTF-8
    assert result.exit_code == 1
    assert result.output == "Error: There is no round with the address “nope”.\n"


@pytest.mark.parametrize("locale", [
    {"LC_ALL": None, "LC_MESSAGES": None, "LANG": "C.UTF-8"},
    {"LC_ALL": None, "LC_MESSAGES": None, "LANG": None},
    {"LC_ALL": "POSIX", "LC_MESSAGES": None, "LANG": "en_US.UTF-8"},
    {"LC_ALL": None, "LC_MESSAGES": None, "LANG": "fr_FR.UTF-8"},
])
def test_a_terminal_without_a_language_the_site_speaks_reads_japanese(runner, db,
                                                                      locale) -> None:
    result = runner.invoke(args=["agenda", "arm", "nope", "--yes"], env=locale)
    assert result.exit_code == 1
    assert result.output == "エラー: アドレスが「nope」のラウンドはありません。\n"


def test_production_refusals_in_japanese(app, runner, db) -> None:
    app.config.update(ENVIRONMENT="production", MAIL_URL=None)
    try:
        seed = runner.invoke(args=["demo", "seed", "--no-polis"], env=JA)
        mail = runner.invoke(args=["mail", "send"], env=JA)
    finally:
        app.config.update(ENVIRONMENT="testing")
    assert seed.exit_code == 1
    assert seed.output == ("エラー: flask demo seed はパスワードが公開されたアカウントを作るため、"
                           "HIROBA_ENV=production では実行できません。\n")
    assert count(db, User) == 0 and count(db, Round) == 0
    assert mail.exit_code == 1 and isinstance(mail.exception, SystemExit)  # no traceback
    assert mail.output.startswith("エラー: MAIL_URL が設定されていないため")


# Flask's and its extensions' own commands keep their English help.
NOT_OURS = {"db", "routes", "run", "shell", "limiter"}
HAS_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def _our_commands(group: click.Group, path: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
        if not path and name in NOT_OURS:
            continue
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from _our_commands(command, (*path, name))


def test_the_help_of_every_command_reads_in_the_terminals_language(app, runner) -> None:
    """Operators read `flask ... --help` on the town's server: each of Hiroba's commands
    describes itself and each of its options in Japanese under a Japanese locale."""
    for path, _command in _our_commands(app.cli):
        result = runner.invoke(args=[*path, "--help"], env=JA)
        assert result.exit_code == 0, (path, result.output)
        usage, *rest = result.output.split("\n\n")
        assert re.match(rf"使い方: \S+ {' '.join(path)} ", usage), (path, usage)
        # the description, then each option or subcommand with the lines that continue it
        entries = re.split(r"\n(?=  \S)", "\n\n".join(rest).strip())
        assert entries and all(HAS_JAPANESE.search(entry) for entry in entries), (path,
                                                                                 entries)
        english = runner.invoke(args=[*path, "--help"], env=EN_TERMINAL).output
        assert english.startswith("Usage: ") and not HAS_JAPANESE.search(english), (path,
                                                                                   english)
    listing = runner.invoke(args=["users", "--help"], env=JA).output
    assert "アカウントを作成します" in listing and "Create an account" not in listing


def test_the_account_list_and_role_changes_read_in_words(runner, db, make_user) -> None:
    """Staff read roles and relations to the town as words, never the stored codes."""
    make_user(email="staff@example.org", role="council", kind="e_citizen")
    listing = runner.invoke(args=["users", "list"], env=JA)
    assert listing.exit_code == 0, listing.output
    assert "議会事務局" in listing.output and "関係人口" in listing.output
    assert "council" not in listing.output and "e_citizen" not in listing.output
    changed = runner.invoke(args=["users", "set-role", "staff@example.org", "facilitator"],
                            env=JA)
    assert changed.exit_code == 0 and "ファシリテーター" in changed.output
    assert "facilitator" not in changed.output
    created = runner.invoke(args=["users", "create", "--email", "new@example.org",
                                  "--role", "admin", "--password", "long enough password"],
                            env=JA)
    assert created.exit_code == 0 and "管理者" in created.output
    assert "admin" not in created.output


@pytest.mark.parametrize(("args", "words"), [
    (["users", "set-role", "a@example.org", "superuser"],
     ["「ROLE」", "citizen, facilitator, council, admin"]),
    (["polis", "import", "{file}"], ["「DIRECTORY」", "フォルダを指定"]),
    (["polis", "import", "--slug", "other", "{file}", "--phase", "voting"],
     ["votes.csv」はファイルです"]),
    (["users", "create", "--email", "a@example.org", "--password", "long enough password",
      "--kind", "alien"], ["「--kind」"]),
    (["users", "create", "--password", "long enough password"], ["「--email」", "指定して"]),
    (["users", "list", "--colour"], ["「--colour」", "ありません"]),
    (["users", "set-role"], ["「EMAIL」", "指定して"]),
    (["users", "nosuch"], ["「nosuch」", "ありません"]),
])
def test_a_mistyped_command_line_is_refused_in_japanese(runner, db, tmp_path, args,
                                                        words) -> None:
    """Click's own refusals (a value not among the choices, a missing argument, an unknown
    option or command) read in the terminal's language too, as one line."""
    (tmp_path / "votes.csv").write_text("x")
    args = [a.replace("{file}", str(tmp_path / "votes.csv")) for a in args]
    result = runner.invoke(args=args, env=JA)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("エラー: "), result.output
    for word in words:
        assert word in result.output, result.output
    assert not re.search(r"Invalid value|Missing|No such|Try '|Usage:", result.output)
    assert count(db, User) == 0


def test_click_refusals_stay_english_under_an_english_terminal(runner, db) -> None:
    result = runner.invoke(args=["users", "set-role", "a@example.org", "superuser"],
                           env=EN_TERMINAL)
    assert result.exit_code == 2 and result.output.startswith("Error: ")
    assert "citizen, facilitator, council, admin" in result.output
