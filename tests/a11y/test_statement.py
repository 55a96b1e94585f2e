"""The accessibility statement: generated from an e2e run's axe results, then shown."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from app.a11y import statement

SAMPLE = Path(__file__).with_name("sample_results.json")


def test_the_generator_sums_up_each_page_and_lists_the_known_issues() -> None:
    data = statement.build(json.loads(SAMPLE.read_text(encoding="utf-8")))
    assert data["standard"] == "JIS X 8341-3:2016" and data["target_level"] == "AA"
    assert data["tested_on"] == "2026-11-30"  # 15:05 UTC is the next day in Tokyo
    assert data["tool"] == "axe-core 4.10.2" and data["runs"] == 4
    home, results = data["pages"]
    assert home["path"] == "/" and home["titles"] == {"ja": "ラウンド", "en": "Rounds"}
    assert home["viewports"] == ["1280x900", "390x844"]
    assert home["languages"] == ["en", "ja", "ja-easy"]
    assert home["violations"] == {"critical": 0, "serious": 0, "moderate": 1, "minor": 0}
    assert home["meets"] is True
    assert results["violations"]["serious"] == 1 and results["meets"] is False
    assert data["pages_meeting"] == 1
    assert [i["rule"] for i in data["known_issues"]] == ["color-contrast", "region"]
    assert data["known_issues"][0]["paths"] == ["/rounds/<round>/results"]


def test_ids_and_tokens_in_addresses_become_placeholders() -> None:
    results = json.loads(SAMPLE.read_text(encoding="utf-8"))
    run = results["runs"][0]
    results["runs"] = [{**run, "path": "/verify/users/10"}, {**run, "path": "/verify/users/11"},
                       {**run, "path": "/auth/reset/eyJ1IjoxLCJmIjoiMDg5Yjc0MTdhMW.awx0bw.8Rz"},
                       {**run, "path": "/rounds/e2e-town/vote"}, {**run, "path": "/rounds/e2e-long/vote"},
                       {**run, "path": "/facilitate/rounds/e2e-results/workshops/3"},
                       {**run, "path": "/facilitate/rounds/new"}]
    paths = [page["path"] for page in statement.build(results)["pages"]]
    assert paths == ["/auth/reset/<token>", "/facilitate/rounds/<round>/workshops/<id>",
                     "/facilitate/rounds/new", "/rounds/<round>/vote", "/verify/users/<id>"]


@pytest.mark.parametrize("bad", ['{"runs": []}', '{"runs": [{"path": "/"}]}', "[]",
                                 '{"finished_at": "yesterday", "runs": [1]}', "not json"])
def test_a_broken_results_file_is_refused_and_nothing_is_written(tmp_path, bad) -> None:
    source, target = tmp_path / "results.json", tmp_path / "statement.json"
    source.write_text(bad, encoding="utf-8")
    with pytest.raises(statement.ResultsError):
        statement.write(source, target)
    assert not target.exists()


def test_the_command_writes_the_statement(runner, tmp_path) -> None:
    target = tmp_path / "statement.json"
    result = runner.invoke(args=["a11y", "statement", "--results", str(SAMPLE),
                                 "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert "2 pages, 4 axe runs, 1 without serious or critical" in result.output
    assert json.loads(target.read_text(encoding="utf-8"))["pages"][0]["path"] == "/"
    missing = runner.invoke(args=["a11y", "statement", "--results", str(tmp_path / "none"),
                                  "--output", str(target)])
    assert missing.exit_code != 0 and "cannot read" in missing.output


def test_the_page_shows_the_generated_data(app, client, tmp_path) -> None:
    target = tmp_path / "statement.json"
    statement.write(SAMPLE, target)
    app.config["A11Y_STATEMENT"] = str(target)
    try:
        ja = client.get("/accessibility", headers={"Accept-Language": "ja"}).get_data(as_text=True)
        en = client.get("/accessibility", headers={"Accept-Language": "en"}).get_data(as_text=True)
    finally:
        app.config.pop("A11Y_STATEMENT")
    assert "JIS X 8341-3:2016" in ja and "適合レベルAA" in ja and "2026-11-30" in ja
    assert "<th scope=\"row\">ラウンド<br>" in ja and "/rounds/&lt;round&gt;/results" in ja
    assert "Elements must meet minimum color contrast ratio thresholds" in ja
    assert "Level AA" in en and "<th scope=\"row\">Rounds<br>" in en
    # a page tested in one language only keeps that language's title, marked as such
    assert '<th scope="row"><span lang="en">Results</span><br>' in ja
    assert "Problems to fix" in en
    # the languages tested in words, not codes
    assert "（英語、日本語、やさしい日本語）" in ja.replace("(", "（").replace(")", "）")
    assert "(English, Japanese, and Easy Japanese)" in en
    assert "ja-easy" not in ja and "ja-easy" not in en
    # window sizes written as the test method above them writes them (390 × 844)
    assert "1280 × 900, 390 × 844" in ja and "390x844" not in ja
    # the count of runs in its Japanese brackets right after the count of pages, no gap
    assert re.search(r"\d+ページ（試験回数", ja)


def test_the_committed_statement_is_shown_on_a_fresh_install(client) -> None:
    committed = statement.load()
    assert committed is not None and committed["pages"]
    page = client.get("/accessibility", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert committed["tested_on"] in page and committed["pages"][0]["path"] in page
