"""One moderator taking a proposal out of the running (rejecting it, or marking it meta so
that it never escalates) after it was published leaves a public trace on the round's page:
when, what was done, how many had voted on it and whether it met the rule for the council
at that moment; never its text or the reason written for its author."""

from __future__ import annotations

import sqlalchemy as sa

from deliberation.engine.snapshots import refresh_round
from deliberation.models import AuditEntry, Escalation, Proposal
from tests import factories
from tests.verification.test_attack import honest_round

JA = {"Accept-Language": "ja"}


def test_a_popular_proposal_removed_by_one_moderator_is_visible(client, login_as, db) -> None:
    round_, ids = honest_round("everyone")
    refresh_round(round_.id)  # "common" meets the rule; the engine has not run yet
    # a neighbour votes on it after the snapshot: the page counts as the snapshot did
    factories.add_vote(factories.make_participant(round_),
                       db.session.get(Proposal, ids["common"]), 1)
    page = client.get(f"/rounds/{round_.slug}", headers=JA).get_data(as_text=True)
    assert "モデレーションで外された提案" not in page

    login_as("facilitator")
    assert client.post(f"/facilitate/rounds/{round_.slug}/moderation", data={
        "proposal_id": str(ids["common"]), "action": "reject",
        "reason": "投稿者の田中さんへ：宣伝にあたるため"}).status_code == 303
    assert client.post(f"/facilitate/rounds/{round_.slug}/moderation", data={
        "proposal_id": str(ids["a_side"]), "action": "meta"}).status_code == 303
    entry = db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.action == "proposal.reject"))
    assert entry.details["met_rule"] is True and entry.details["votes"] == 30

    page = client.get(f"/rounds/{round_.slug}", headers=JA).get_data(as_text=True)
    assert "モデレーションで外された提案" in page
    assert "却下" in page and "議論の対象外（メタ）" in page
    assert "議会に送る基準を満たしていました" in page and "30人が投票していました" in page
    assert "田中" not in page and "common" not in page  # no reason, no text
    assert db.session.scalar(sa.select(Escalation.id)) is None
