"""The accessibility statement's data, generated from the axe runs of the e2e tests.

``tests/e2e/conftest.py`` records every axe-core run (page, viewport, language, rules
passed, violations by impact) in a JSON file; ``build`` turns that file into what the
page ``/accessibility`` shows: pages tested with their results, the test date, and the
known issues (every violation, whatever its impact). ``flask a11y statement`` writes it to
``STATEMENT`` (committed, so a fresh install has a statement).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from deliberation.models import TOKYO

STATEMENT = Path(__file__).with_name("statement.json")
IMPACTS = ("critical", "serious", "moderate", "minor")
# The site's own suffix on every page title ("Results · Hiroba"): the page name is before it.
TITLE_SEPARATOR = " · "


def page_path(path: str) -> str:
    """The tested page's address with ids, one-time tokens and round addresses as
    placeholders, so that one page tested with several ids or rounds is one row (and
    neither a test token nor a test round's name such as "e2e-town" is published)."""
    parts = path.split("/")
    return "/".join(
        "<id>" if part.isdecimal() else "<token>" if len(part) > 24
        else "<round>" if i and parts[i - 1] == "rounds" and part not in ("", "new") else part
        for i, part in enumerate(parts))


class ResultsError(ValueError):
    """The results file is not what the e2e run writes."""


def build(results: dict[str, Any]) -> dict[str, Any]:
    """The statement's data from an e2e run's axe results (``tests/e2e/conftest.py``)."""
    runs = results.get("runs") if isinstance(results, dict) else None
    if not runs or not isinstance(runs, list):
        raise ResultsError("no axe runs in the results file")
    try:
        finished = datetime.fromisoformat(results["finished_at"]).astimezone(TOKYO)
        pages: dict[str, dict[str, Any]] = {}
        issues: dict[str, dict[str, Any]] = {}
        for run in runs:
            path = page_path(run["path"])
            page = pages.setdefault(path, {
                "path": path, "titles": {}, "fallback_titles": {}, "viewports": set(),
                "languages": set(),
                "runs": 0, "passes": 0, "incomplete": 0,
                "violations": dict.fromkeys(IMPACTS, 0)})
            # easy Japanese and furigana are variants of a language ("ja-easy"); the page's
            # name is its title in the standard language where it was tested so
            reading = run.get("reading", "standard")
            title = run["title"].split(TITLE_SEPARATOR)[0]
            if reading == "standard":
                page["titles"][run["lang"]] = title
            else:
                page["fallback_titles"].setdefault(run["lang"], title)
            page["viewports"].add(run["viewport"])
            page["languages"].add(run["lang"] if reading == "standard"
                                  else f"{run['lang']}-{reading}")
            page["runs"] += 1
            page["passes"] = max(page["passes"], int(run["passes"]))
            page["incomplete"] = max(page["incomplete"], int(run["incomplete"]))
            for violation in run["violations"]:
                impact = violation["impact"] if violation["impact"] in IMPACTS else "minor"
                page["violations"][impact] += 1
                issue = issues.setdefault(violation["id"], {
                    "rule": violation["id"], "impact": impact, "help": violation["help"],
                    "paths": set()})
                issue["paths"].add(path)
    except (KeyError, TypeError, ValueError) as exc:
        raise ResultsError(f"unexpected results file: {exc!r}") from exc
    tested = []
    for page in sorted(pages.values(), key=lambda p: p["path"]):
        fallback = page.pop("fallback_titles")
        tested.append({
            **page, "titles": {**fallback, **page["titles"]},
            "viewports": sorted(page["viewports"]), "languages": sorted(page["languages"]),
            "meets": page["violations"]["critical"] == 0 and page["violations"]["serious"] == 0})
    return {
        "standard": "JIS X 8341-3:2016",
        "target_level": "AA",
        "tool": f"{results.get('tool', 'axe-core')} {results.get('axe_version', '')}".strip(),
        "browser": results.get("browser", ""),
        "tested_on": finished.date().isoformat(),
        "runs": len(runs),
        "pages": tested,
        "pages_meeting": sum(1 for page in tested if page["meets"]),
        "known_issues": [
            {**issue, "paths": sorted(issue["paths"])}
            for issue in sorted(issues.values(),
                                key=lambda i: (IMPACTS.index(i["impact"]), i["rule"]))],
    }


def write(results_path: Path, statement_path: Path = STATEMENT) -> dict[str, Any]:
    try:
        results = json.loads(results_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ResultsError(f"cannot read {results_path}: {exc}") from exc
    statement = build(results)
    statement_path.write_text(json.dumps(statement, ensure_ascii=False, indent=1) + "\n",
                              encoding="utf-8")
    return statement


def load(statement_path: Path = STATEMENT) -> dict[str, Any] | None:
    """The generated statement, or None when there is none yet."""
    try:
        return json.loads(statement_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
