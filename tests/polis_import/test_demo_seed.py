"""`flask demo seed` imports vtaiwan.uberx through the Pol.is importer as the second demo
(idempotent)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from deliberation.demo_town import PLANS
from deliberation.models import Round
from tests.conftest import polis_dataset


@pytest.mark.slow  # imports and clusters a real Pol.is round
def test_demo_seed_imports_polis_round(runner, client, db) -> None:
    path = polis_dataset("vtaiwan.uberx")
    result = runner.invoke(args=["demo", "seed", "--polis-dir", str(path)])
    assert result.exit_code == 0, result.output
    assert "vtaiwan-uberx" in result.output and "created" in result.output
    round_ = db.session.scalar(sa.select(Round).where(Round.slug == "vtaiwan-uberx"))
    assert round_.phase == "voting" and round_.title and round_.description
    again = runner.invoke(args=["demo", "seed", "--polis-dir", str(path)])
    assert "already present" in again.output and "created" not in again.output
    # The Japanese town comes first on the home page, the vTaiwan import second.
    html = client.get("/").get_data(as_text=True)
    assert html.index(PLANS.title) < html.index(round_.title)
    # The town's council agenda is the town's: the import waits for its facilitator to
    # confirm the preview, so a resident opening the agenda reads the town's items first
    # rather than a page of Taiwanese proposals in Chinese, sent "today".
    assert runner.invoke(args=["cluster", "run", "vtaiwan-uberx"]).exit_code == 0
    agenda = client.get("/agenda/", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "しおさい町" in agenda and "vTaiwan" not in agenda.split("<main", 1)[1].split(
        "</form>", 1)[1]
    assert round_.escalation_armed is False
