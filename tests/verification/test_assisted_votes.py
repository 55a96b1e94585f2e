"""Paper votes a facilitator types in (assisted participants) are real votes, but one
person enters them: when they alone decide whether a proposal reaches the council, in
either direction, the proposal waits for a review by someone else (another facilitator
or an administrator), and the public page says how many votes were typed in by staff."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from deliberation.jobs.runner import refresh_and_escalate
from deliberation.models import Escalation, EscalationReview, Participant
from tests import factories
from tests.verification.test_attack import honest_round

JA = {"Accept-Language": "ja"}
N_PAPER = 12
# like group B, but agreeing with "contested", which group B is split on
PAPER = {"common": 1, "a_side": -1, "b_side": 1, "contested": 1, "a_two": -1, "b_two": 1}


def enter_paper_votes(client, slug: str, ids: dict[str, int],
                      script: dict[str, int] = PAPER) -> None:
    for n in range(N_PAPER):
        created = client.post(f"/facilitate/rounds/{slug}/assisted",
                              data={"label": f"公民館 用紙{n + 1}", "kind": "resident"})
        assert created.status_code == 303
        pid = int(created.headers["Location"].rstrip("/").rsplit("/", 1)[1])
        saved = client.post(f"/facilitate/rounds/{slug}/assisted/{pid}", data={
            f"vote-{ids[name]}": str(script.get(name, "")) for name in ids})
        assert saved.status_code == 303


def test_one_facilitators_paper_votes_cannot_decide_alone(client, login_as, db) -> None:
    round_, ids = honest_round("everyone")
    refresh_and_escalate(round_.id)
    assert ids["contested"] not in set(db.session.scalars(sa.select(Escalation.proposal_id)))

    typist = login_as("facilitator")
    enter_paper_votes(client, round_.slug, ids)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Participant).where(
        Participant.source == "assisted")) == N_PAPER
    refresh_and_escalate(round_.id)
    # the paper votes carry "contested" over the rule: it waits instead of escalating
    assert ids["contested"] not in set(db.session.scalars(sa.select(Escalation.proposal_id)))
    review = db.session.scalar(sa.select(EscalationReview).where(
        EscalationReview.proposal_id == ids["contested"]))
    assert review is not None and review.status == "pending"
    assert review.evidence["source"] == "assisted"
    assert review.evidence["assisted_votes"] == N_PAPER

    page = client.get(f"/facilitate/rounds/{round_.slug}", headers=JA).get_data(as_text=True)
    assert f"職員が代理で入力した{N_PAPER}票" in page
    assert "公開される議題のページに表示されます" in page  # the reason will be public
    # the facilitator who typed the votes in cannot approve them, nor dismiss them
    for action in ("approve", "dismiss"):
        refused = client.post(f"/facilitate/rounds/{round_.slug}/reviews/{review.id}",
                              data={"action": action, "reason": "用紙を確認しました"},
                              headers=JA, follow_redirects=True)
        assert "ほかのファシリテーターか管理者が判断" in refused.get_data(as_text=True)
    db.session.refresh(review)
    assert review.status == "pending"
    assert db.session.scalar(sa.select(Escalation.id).where(
        Escalation.proposal_id == ids["contested"])) is None

    second = login_as("facilitator")
    assert second.id != typist.id
    response = client.post(f"/facilitate/rounds/{round_.slug}/reviews/{review.id}", data={
        "action": "approve", "reason": "公民館の用紙12枚を照合しました"})
    assert response.status_code == 303
    esc = db.session.scalar(sa.select(Escalation).where(
        Escalation.proposal_id == ids["contested"]))
    public = client.get(f"/agenda/items/{esc.id}", headers=JA).get_data(as_text=True)
    assert f"職員が代理で入力した{N_PAPER}票" in public
    assert "公民館の用紙12枚を照合しました" in public


@pytest.mark.parametrize("role", ["facilitator", "admin"])
def test_paper_votes_that_do_not_decide_escalate_as_usual(client, login_as, db,
                                                          role: str) -> None:
    round_, ids = honest_round("everyone")
    login_as(role)
    enter_paper_votes(client, round_.slug, ids, {"common": 1})
    refresh_and_escalate(round_.id)
    escalated = set(db.session.scalars(sa.select(Escalation.proposal_id)))
    assert ids["common"] in escalated  # both groups agree, with or without the paper
    assert db.session.scalar(sa.select(EscalationReview.id).where(
        EscalationReview.proposal_id == ids["common"])) is None


def test_a_few_paper_votes_are_not_counted_in_public(client, login_as, db) -> None:
    """Under the small-count minimum, the public page says "fewer than 5" and leaves out
    the totals whose difference would give the number away; staff reviewing see it."""
    from tests.factories import make_proposal, make_round

    round_ = make_round(phase="voting")
    proposal = make_proposal(round_, "公民館の開館時間を延ばす")
    review = EscalationReview(proposal_id=proposal.id, round_id=round_.id, evidence={
        "source": "assisted", "blocks": [], "decisive": True, "snapshot_id": None,
        "effect": "pushed", "assisted_votes": 3,
        "with_blocks": {"escalate": True, "total_votes": 41, "support": 0.52},
        "without_blocks": {"escalate": False, "reasons": ["group_below_threshold"],
                           "total_votes": 38, "support": 0.47}})
    db.session.add(review)
    db.session.commit()
    login_as("admin")
    staff = client.get(f"/facilitate/rounds/{round_.slug}", headers=JA).get_data(as_text=True)
    assert "職員が代理で入力した3票" in staff
    client.post(f"/facilitate/rounds/{round_.slug}/reviews/{review.id}",
                data={"action": "approve", "reason": "用紙を照合しました"})
    esc = db.session.scalar(sa.select(Escalation))
    public = client.get(f"/agenda/items/{esc.id}", headers=JA).get_data(as_text=True)
    assert "5票未満" in public and "職員が代理で入力した3票" not in public
    assert "41票" not in public and "38票" not in public


def test_paper_votes_and_a_block_that_each_carry_a_proposal_cannot_hide_each_other(
        app, client, login_as, db) -> None:
    """A facilitator types in paper votes for "contested" and a burst of new accounts votes
    for it too: either alone carries it over the rule, so removing one alone changes
    nothing. Together they decided it, so it waits, and not for the typist to decide."""
    from tests.verification.test_attack import attack

    round_, ids = honest_round("everyone")
    refresh_and_escalate(round_.id)
    typist = login_as("facilitator")
    enter_paper_votes(client, round_.slug, ids)
    attack(app, round_, ids)
    snapshot = refresh_and_escalate(round_.id)
    assert snapshot.statistics["coordinated_blocks"]
    assert ids["contested"] not in set(db.session.scalars(sa.select(Escalation.proposal_id)))
    review = db.session.scalar(sa.select(EscalationReview).where(
        EscalationReview.proposal_id == ids["contested"]))
    assert review is not None and review.status == "pending"
    factories.log_in(client, typist)
    page = client.get(f"/facilitate/rounds/{round_.slug}", headers=JA).get_data(as_text=True)
    assert "協調した投票のまとまりとして検出された30件のアカウントも" in page
    refused = client.post(f"/facilitate/rounds/{round_.slug}/reviews/{review.id}",
                          data={"action": "approve", "reason": "確認しました"},
                          headers=JA, follow_redirects=True)
    assert "ほかのファシリテーターか管理者が判断" in refused.get_data(as_text=True)
    db.session.refresh(review)
    assert review.status == "pending"


def test_the_typist_cannot_put_a_held_proposal_on_the_agenda_by_hand(client, login_as,
                                                                      db) -> None:
    """Escalating by hand is no way around the review: a proposal waiting for one is
    decided there, and a facilitator who typed in paper votes that decide it may not send
    it to the council by hand either, also after another facilitator dismissed it."""
    round_, ids = honest_round("everyone")
    refresh_and_escalate(round_.id)
    typist = login_as("facilitator")
    enter_paper_votes(client, round_.slug, ids)
    refresh_and_escalate(round_.id)
    review = db.session.scalar(sa.select(EscalationReview).where(
        EscalationReview.proposal_id == ids["contested"]))
    assert review is not None and review.status == "pending"
    url = f"/agenda/manage/rounds/{round_.slug}/escalate"
    by_hand = {"proposal_id": ids["contested"], "reason": "住民の声が多いため"}
    refused = client.post(url, data=by_hand, headers=JA)
    assert refused.status_code == 409
    assert "確認を待っています" in refused.get_data(as_text=True)

    second = login_as("facilitator")
    assert client.post(f"/facilitate/rounds/{round_.slug}/reviews/{review.id}", data={
        "action": "dismiss", "reason": "用紙と照合できませんでした"}).status_code == 303
    factories.log_in(client, typist)
    refused = client.post(url, data=by_hand, headers=JA)
    assert refused.status_code == 409
    assert "ほかのファシリテーターか管理者が判断" in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(Escalation.id).where(
        Escalation.proposal_id == ids["contested"])) is None
    # someone who typed in nothing may still decide otherwise, in the open
    factories.log_in(client, second)
    assert client.post(url, data=by_hand).status_code == 303


def test_paper_votes_cannot_make_an_agenda_item_read_as_fallen(client, login_as, db) -> None:
    """After a proposal reached the council, one facilitator typing in paper votes against
    it must not make its public page and the agenda list say "support has since fallen",
    as a coordinated block cannot."""
    round_, ids = honest_round("everyone")
    refresh_and_escalate(round_.id)
    esc = db.session.scalar(sa.select(Escalation).where(Escalation.proposal_id == ids["common"]))
    assert esc is not None
    login_as("facilitator")
    enter_paper_votes(client, round_.slug, ids, {**PAPER, "common": -1})
    refresh_and_escalate(round_.id)
    for url in (f"/agenda/items/{esc.id}", "/agenda/", f"/rounds/{round_.slug}"):
        page = client.get(url, headers=JA).get_data(as_text=True)
        assert "その後、支持が下がっています" not in page, url
