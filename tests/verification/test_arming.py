"""Imports and new rounds escalate nothing until a facilitator confirms the preview; meta
statements never escalate; the demo's agenda has no demographic statement."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from deliberation.database import db
from deliberation.engine import escalation
from deliberation.jobs.runner import refresh_and_escalate
from deliberation.models import AuditEntry, Escalation, Proposal, Round
from deliberation.services import facilitation
from tests.agenda.conftest import build_planted_round
from tests.conftest import polis_dataset


def escalated(round_id: int) -> set[int]:
    return set(db.session.scalars(sa.select(Escalation.proposal_id).where(
        Escalation.round_id == round_id)))


def test_new_rounds_start_disarmed(db) -> None:
    round_ = facilitation.create_round(slug="fresh", title="Fresh", actor=None)
    assert round_.escalation_armed is False


def test_disarmed_round_previews_and_escalates_only_when_armed(client, login_as, db) -> None:
    planted = build_planted_round()
    planted.round.escalation_armed = False
    db.session.commit()
    snapshot = refresh_and_escalate(planted.round.id)
    assert escalated(planted.round.id) == set()  # nothing before confirmation

    login_as("facilitator")
    page = client.get(f"/facilitate/rounds/{planted.round.slug}",
                      headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "Everyone agrees 0" in page  # the preview lists what would escalate
    assert "A side 0" not in page
    response = client.post(f"/facilitate/rounds/{planted.round.slug}/escalation",
                           data={"action": "arm", "reason": "checked the preview",
                                 "snapshot_id": str(snapshot.id)})
    assert response.status_code == 303
    assert escalated(planted.round.id) == set(planted.consensus)
    entry = db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.action == "round.escalation_armed"))
    assert entry.reason == "checked the preview" and entry.round_id == planted.round.id

    client.post(f"/facilitate/rounds/{planted.round.slug}/escalation",
                data={"action": "disarm"})
    db.session.refresh(planted.round)
    assert planted.round.escalation_armed is False
    # Disarmed again, the preview no longer promises what went already: a proposal goes once.
    page = client.get(f"/facilitate/rounds/{planted.round.slug}",
                      headers={"Accept-Language": "ja"}).get_data(as_text=True)
    arming = page[page.index('id="escalation"'):]
    arming = arming[:arming.index("</section>")]
    assert "Everyone agrees" not in arming
    assert (f"ほかに{len(planted.consensus)}件が条件を満たしていますが、すでに議題になっている"
            in arming)
    assert client.post(f"/facilitate/rounds/{planted.round.slug}/escalation",
                       data={"action": "explode"}).status_code == 400


def test_citizens_cannot_arm(client, login_as, db) -> None:
    planted = build_planted_round()
    planted.round.escalation_armed = False
    db.session.commit()
    login_as("citizen")
    assert client.post(f"/facilitate/rounds/{planted.round.slug}/escalation",
                       data={"action": "arm"}).status_code == 403
    db.session.refresh(planted.round)
    assert planted.round.escalation_armed is False


def test_meta_statements_never_escalate(db) -> None:
    planted = build_planted_round()
    meta = db.session.get(Proposal, planted.consensus[0])
    meta.is_meta = True
    db.session.commit()
    refresh_and_escalate(planted.round.id)
    assert planted.consensus[0] not in escalated(planted.round.id)
    import pytest

    from deliberation.errors import DomainError
    from tests.factories import make_user

    with pytest.raises(DomainError):
        escalation.escalate_manually(meta.id, actor=make_user("facilitator"), reason="x")


@pytest.mark.slow  # imports and clusters a real Pol.is round
def test_pol_is_import_escalates_nothing_until_armed(runner, db) -> None:
    path = polis_dataset("vtaiwan.uberx")
    assert runner.invoke(args=["polis", "import", str(path), "--slug", "uberx"]).exit_code == 0
    result = runner.invoke(args=["cluster", "run", "uberx"])
    assert "Escalated 0 proposals." in result.output
    assert "Escalation is not armed" in result.output
    round_ = db.session.scalar(sa.select(Round).where(Round.slug == "uberx"))
    assert escalated(round_.id) == set()


@pytest.mark.slow  # imports and clusters a real Pol.is round
def test_demo_agenda_has_no_demographic_statement(runner, db) -> None:
    path = polis_dataset("vtaiwan.uberx")
    result = runner.invoke(args=["demo", "seed", "--polis-dir", str(path)])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["cluster", "run", "vtaiwan-uberx"]).exit_code == 0
    round_ = db.session.scalar(sa.select(Round).where(Round.slug == "vtaiwan-uberx"))
    assert escalated(round_.id) == set()  # the demo's import waits for its facilitator
    from deliberation.engine.arming import set_armed
    from deliberation.models.snapshot import latest_snapshot

    set_armed(round_, True, actor=None, seen_snapshot_id=latest_snapshot(round_.id).id)
    on_agenda = db.session.scalars(sa.select(Proposal).join(
        Escalation, Escalation.proposal_id == Proposal.id).where(
        Escalation.round_id == round_.id)).all()
    assert on_agenda  # the demo still has an agenda ...
    texts = [p.text for p in on_agenda]
    assert "我有小型車駕駛執照。" not in texts  # ... without "I have a driving licence"
    assert not [t for t in texts if t.startswith(("我有", "我是"))]


def test_arming_confirms_the_snapshot_that_was_previewed(client, login_as, db) -> None:
    """The preview and the confirmation are two requests: if the votes were regrouped in
    between, arming would send to the council what nobody had looked at. The form carries
    the snapshot it showed; a newer one is refused with the reason, and nothing escalates."""
    from deliberation.models import ClusterSnapshot, Vote

    planted = build_planted_round()
    planted.round.escalation_armed = False
    # at first few have voted on the proposals everyone agrees with: nothing would escalate
    held_back = [dict(round_id=v.round_id, participant_id=v.participant_id,
                      proposal_id=v.proposal_id, value=v.value)
                 for v in db.session.scalars(sa.select(Vote).where(
                     Vote.proposal_id.in_(planted.consensus)))]
    db.session.execute(sa.delete(Vote).where(Vote.proposal_id.in_(planted.consensus)))
    db.session.commit()
    first = refresh_and_escalate(planted.round.id)
    login_as("facilitator")
    page = client.get(f"/facilitate/rounds/{planted.round.slug}",
                      headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "Everyone agrees 0" not in page
    assert f'name="snapshot_id" value="{first.id}"' in page

    db.session.execute(sa.insert(Vote), held_back)  # the votes arrive meanwhile ...
    db.session.commit()
    second = refresh_and_escalate(planted.round.id)  # ... and the worker regroups them
    assert second.id != first.id
    response = client.post(f"/facilitate/rounds/{planted.round.slug}/escalation",
                           data={"action": "arm", "snapshot_id": str(first.id)},
                           headers={"Accept-Language": "ja"})
    # to the top of the page, where the message is, not down to the section it is about
    assert response.status_code == 303 and "#" not in response.headers["Location"]
    response = client.get(response.headers["Location"], headers={"Accept-Language": "ja"})
    assert "もう一度確認" in response.get_data(as_text=True)
    db.session.refresh(planted.round)
    assert planted.round.escalation_armed is False and escalated(planted.round.id) == set()
    # a form without the snapshot it showed is refused the same way
    client.post(f"/facilitate/rounds/{planted.round.slug}/escalation", data={"action": "arm"})
    db.session.refresh(planted.round)
    assert planted.round.escalation_armed is False

    page = client.get(f"/facilitate/rounds/{planted.round.slug}").get_data(as_text=True)
    assert "Everyone agrees 0" in page  # the new preview shows them ...
    client.post(f"/facilitate/rounds/{planted.round.slug}/escalation",
                data={"action": "arm", "snapshot_id": str(second.id)})
    assert escalated(planted.round.id) == set(planted.consensus)  # ... and now they go
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClusterSnapshot)) == 2


def test_an_import_cannot_be_armed_before_anyone_saw_its_groups(client, login_as, db) -> None:
    """An imported round's votes are all there before its first snapshot: arming it then
    would send whatever that snapshot supports to the council unseen."""
    planted = build_planted_round()
    planted.round.escalation_armed = False
    planted.round.source = "polis"
    db.session.commit()
    login_as("facilitator")
    response = client.post(f"/facilitate/rounds/{planted.round.slug}/escalation",
                           data={"action": "arm", "snapshot_id": ""},
                           headers={"Accept-Language": "ja"}, follow_redirects=True)
    assert "最初のグループ分け" in response.get_data(as_text=True)
    db.session.refresh(planted.round)
    assert planted.round.escalation_armed is False
    refresh_and_escalate(planted.round.id)
    assert escalated(planted.round.id) == set()


def test_the_public_round_page_says_when_nothing_is_sent_yet(client, db) -> None:
    """A resident who sees a proposal with support in every group and no agenda item can
    read why on the round's page: sending has not been started by a facilitator."""
    planted = build_planted_round()
    planted.round.escalation_armed = False
    db.session.commit()
    page = client.get(f"/rounds/{planted.round.slug}", headers={"Accept-Language": "ja"}).text
    assert "このラウンドでは、議会への送付はまだ始まっていません。" in page
    planted.round.escalation_armed = True
    db.session.commit()
    page = client.get(f"/rounds/{planted.round.slug}", headers={"Accept-Language": "ja"}).text
    assert "議会への送付はまだ始まっていません" not in page
    # stopped after proposals went (new groups to check, or a facilitator stopped it): not
    # "not started", which the agenda below it would belie
    refresh_and_escalate(planted.round.id)
    planted.round.escalation_armed = False
    db.session.commit()
    page = client.get(f"/rounds/{planted.round.slug}", headers={"Accept-Language": "ja"}).text
    assert "まだ始まっていません" not in page and "議会への送付を止めています" in page
