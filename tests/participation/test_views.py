"""Round pages, voting card, proposals, reports and results over HTTP."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from deliberation.models import AuditEntry, Participant, Proposal, Report, User, Vote, VoteEvent
from deliberation.services.participants import participant_for
from deliberation.services.votes import votes_of
from deliberation.text import text_key
from tests.conftest import polis_dataset
from tests.factories import make_participant, make_proposal
from tests.races import committed_first

EN = {"Accept-Language": "en"}
HX = {"HX-Request": "true", "Accept-Language": "en"}


def test_home_lists_open_and_closed_rounds_with_counts(client, make_round) -> None:
    open_round = make_round(title="Station square", summary="Benches?", phase="voting")
    closed = make_round(title="Old round", phase="closed")
    make_proposal(open_round)
    make_proposal(open_round)
    make_round(title="Secret draft", phase="draft")
    html = client.get("/", headers=EN).get_data(as_text=True)
    assert "Station square" in html and "Benches?" in html and "2 proposals" in html
    assert "Old round" in html and "0 proposals went to the council" in html
    assert "Secret draft" not in html
    assert f"/rounds/{closed.slug}/results" in html


def test_round_page_shows_markdown_policy_and_links(client, make_round) -> None:
    r = make_round(description="**bold** <script>x</script>", background_links=[
        {"title": "Town plan", "url": "https://example.org/plan"},
        {"title": "Evil", "url": "javascript:alert(1)"}])
    html = client.get(f"/rounds/{r.slug}", headers=EN).get_data(as_text=True)
    assert "<strong>bold</strong>" in html and "<script>x" not in html
    assert "Town plan" in html and "javascript:" not in html
    assert "at least 50% agree (with 90% confidence)" in html
    assert "at least 20 people have voted" in html


def test_draft_and_unknown_rounds_are_404(client, make_round) -> None:
    assert client.get(f"/rounds/{make_round(phase='draft').slug}").status_code == 404
    assert client.get("/rounds/nope").status_code == 404


def test_vote_addresses_of_draft_unknown_or_malformed_rounds_are_404(client, login_as,
                                                                      make_round) -> None:
    login_as()
    draft = make_round(phase="draft")
    for slug in (draft.slug, "nope", "Not-A-Slug"):
        assert client.get(f"/rounds/{slug}/vote").status_code == 404
        assert client.post(f"/rounds/{slug}/vote",
                           data={"proposal_id": "1", "value": "1"}).status_code == 404
        assert client.post(f"/api/v1/rounds/{slug}/votes",
                           json={"proposal_id": 1, "value": 1}).status_code == 404


def test_vote_requires_login(client, make_round) -> None:
    r = make_round()
    response = client.get(f"/rounds/{r.slug}/vote")
    assert response.status_code == 303 and "/auth/login" in response.headers["Location"]
    response = client.post(f"/rounds/{r.slug}/vote", headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"].startswith("/auth/login")


def test_vote_card_htmx_swaps_next_card(client, login_as, make_round, db) -> None:
    user = login_as()
    r = make_round(phase="voting")
    a, b = make_proposal(r, "First idea"), make_proposal(r, "Second idea")
    page = client.get(f"/rounds/{r.slug}/vote", headers=EN)
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    # how far there is to go, from the first card on; no "0 proposals voted on"
    assert "2 proposals left, this one included." in page.text
    assert "You have voted on 0" not in page.text
    shown = a if "First idea" in page.get_data(as_text=True) else b
    other = b if shown is a else a
    response = client.post(f"/rounds/{r.slug}/vote", headers=HX,
                           data={"proposal_id": shown.id, "value": "1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html and 'id="vote-card"' in html
    assert other.text in html and "Your vote was saved." in html
    assert "You have voted on 1 proposal." in html
    assert "1 proposal left, this one included." in html
    # the heading that takes the focus is described by the confirmation and the proposal
    assert (f'aria-describedby="vote-card-message card-text-{other.id}"' in html
            and 'id="vote-card-message"' in html)
    ja = client.get(f"/rounds/{r.slug}/vote", headers={"Accept-Language": "ja"}).text
    assert "1件の提案に投票しました。" in ja and "残りは、この提案を含めて1件です。" in ja
    assert "HX-Request" in response.headers["Vary"]
    # the last vote: the heading that says all are done is described by the confirmation
    last = client.post(f"/rounds/{r.slug}/vote", headers=HX,
                       data={"proposal_id": other.id, "value": "-1"}).get_data(as_text=True)
    assert "You have voted on every proposal" in last
    assert 'data-autofocus aria-describedby="vote-card-message"' in last
    participant = participant_for(r, user, create=False)
    assert votes_of(participant) == {shown.id: 1, other.id: -1}


def test_vote_without_js_redirects_303(client, login_as, make_round) -> None:
    login_as()
    r = make_round(phase="voting")
    p = make_proposal(r)
    response = client.post(f"/rounds/{r.slug}/vote", data={"proposal_id": p.id, "value": "-1"},
                           headers=EN)
    assert response.status_code == 303 and response.headers["Location"].endswith("/vote")
    html = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "Your vote was saved." in html and "You have voted on every proposal" in html


def test_change_vote_from_list(client, login_as, make_round, db) -> None:
    login_as()
    r = make_round(phase="voting")
    p = make_proposal(r, "Change me")
    client.post(f"/rounds/{r.slug}/vote", data={"proposal_id": p.id, "value": "1"})
    response = client.post(f"/rounds/{r.slug}/vote",
                           data={"proposal_id": p.id, "value": "0", "back": "proposals"})
    # back where the vote was cast: the same search and page, at the proposal
    assert response.headers["Location"] == f"/rounds/{r.slug}/proposals#text-{p.id}"
    assert db.session.scalar(sa.select(Vote.value)) == 0
    html = client.get(f"/rounds/{r.slug}/proposals?q=Change&sort=oldest",
                      headers=EN).get_data(as_text=True)
    assert "Your vote: <strong>Pass / unsure</strong>" in html and 'aria-pressed="true"' in html
    # a full-width colon and no space in Japanese (not あなたの投票： パス)
    ja = client.get(f"/rounds/{r.slug}/proposals", headers={"Accept-Language": "ja"})
    assert "あなたの投票：<strong>パス／わからない</strong>" in ja.get_data(as_text=True)
    assert 'name="back_query" value="q=Change&amp;sort=oldest"' in html
    response = client.post(f"/rounds/{r.slug}/vote", data={
        "proposal_id": p.id, "value": "1", "back": "proposals",
        "back_query": "q=Change&sort=oldest&page=2&evil=//x.example"})
    assert response.headers["Location"] == (
        f"/rounds/{r.slug}/proposals?q=Change&sort=oldest&page=2#text-{p.id}")
    html = client.get(f"/rounds/{r.slug}/mine", headers=EN).get_data(as_text=True)
    assert "Change me" in html
    response = client.post(f"/rounds/{r.slug}/vote",
                           data={"proposal_id": p.id, "value": "-1", "back": "mine"})
    assert response.headers["Location"] == f"/rounds/{r.slug}/mine#text-{p.id}"
    # on a proposal's own page the vote leads back to that page, not to the list
    html = client.get(f"/rounds/{r.slug}/proposals/{p.id}", headers=EN).get_data(as_text=True)
    assert 'name="back" value="proposal"' in html
    response = client.post(f"/rounds/{r.slug}/vote",
                           data={"proposal_id": p.id, "value": "0", "back": "proposal"})
    assert response.headers["Location"] == f"/rounds/{r.slug}/proposals/{p.id}"
    # a proposal id that is not one leads back to the list without a place in it
    response = client.post(f"/rounds/{r.slug}/vote",
                           data={"proposal_id": "x", "value": "0", "back": "proposals"})
    assert response.headers["Location"] == f"/rounds/{r.slug}/proposals"


def test_a_vote_refused_from_the_list_leads_to_the_message_not_down_the_list(
        client, login_as, make_round, db) -> None:
    """Without JavaScript the reason is a message at the top of the page: a refused vote
    (the round closed while the list was open) must not jump down to the proposal, where
    the list looks as before and the vote seems taken."""
    login_as()
    r = make_round(phase="voting")
    p = make_proposal(r, "Close me")
    r.phase = "reflection"
    db.session.commit()
    for back in ("proposals", "mine"):
        response = client.post(f"/rounds/{r.slug}/vote", headers=EN, data={
            "proposal_id": p.id, "value": "1", "back": back, "back_query": "sort=oldest"})
        assert response.status_code == 303 and "#" not in response.headers["Location"]
        html = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
        assert "flash-error" in html and "Voting has ended" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 0


def test_bad_vote_input_is_refused_clearly(client, login_as, make_round, db) -> None:
    login_as()
    r = make_round(phase="voting")
    p = make_proposal(r)
    response = client.post(f"/rounds/{r.slug}/vote", headers=HX,
                           data={"proposal_id": p.id, "value": "7"})
    assert response.status_code == 200 and "agree" in response.get_data(as_text=True)
    assert response.headers["X-Hiroba-Error"] == "invalid"
    response = client.post(f"/rounds/{r.slug}/vote", headers=HX,
                           data={"proposal_id": "999999", "value": "1"})
    assert response.headers["X-Hiroba-Error"] == "not_found"
    assert "no published proposal with this number" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 0


def test_vote_in_closed_round_refused(client, login_as, make_round, db) -> None:
    login_as()
    r = make_round(phase="closed")
    p = make_proposal(r)
    html = client.get(f"/rounds/{r.slug}/vote", headers=EN).get_data(as_text=True)
    assert "closed for voting" in html
    response = client.post(f"/rounds/{r.slug}/vote", headers=HX,
                           data={"proposal_id": p.id, "value": "1"})
    assert 'role="alert"' in response.get_data(as_text=True)
    # said once, in the alert, not again in the card below it (a screen reader read the
    # same sentence twice)
    assert response.get_data(as_text=True).count("closed for voting") == 1
    response = client.post(f"/rounds/{r.slug}/vote", data={"proposal_id": p.id, "value": "1"})
    assert response.status_code == 303
    assert "closed for voting" in client.get(response.headers["Location"],
                                             headers=EN).get_data(as_text=True)


def test_ineligible_user_gets_403(client, login_as, make_round) -> None:
    login_as(kind="e_citizen")
    r = make_round(eligibility="residents")
    response = client.get(f"/rounds/{r.slug}/vote", headers=EN)
    assert response.status_code == 403 and "residents" in response.get_data(as_text=True)


def test_propose_publishes_and_shows_counter(client, login_as, make_round, db) -> None:
    login_as()
    r = make_round(phase="collecting")
    html = client.get(f"/rounds/{r.slug}/propose", headers=EN).get_data(as_text=True)
    assert 'maxlength="280"' in html and 'data-maxlength-counter="text-count"' in html
    assert 'data-template="%d characters left"' in html
    response = client.post(f"/rounds/{r.slug}/propose", data={"text": "Shade trees"})
    assert response.status_code == 303
    proposal = db.session.scalar(sa.select(Proposal))
    assert proposal.status == "published"
    assert db.session.scalar(sa.select(Vote.value)) == 1


def test_propose_duplicate_links_existing(client, login_as, make_round, db) -> None:
    login_as()
    r = make_round(phase="collecting")
    existing = make_proposal(r, "Shade trees")
    response = client.post(f"/rounds/{r.slug}/propose", data={"text": "shade  TREES!"},
                           headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "already exists" in html
    assert f"/rounds/{r.slug}/proposals/{existing.id}" in html
    assert "shade  TREES!" in html  # nothing typed is lost


def test_a_proposal_sent_twice_at_once_is_stored_once(client, login_as, make_round,
                                                      db) -> None:
    """A double click on "send": the other copy passed the duplicate check and committed
    while this one was between its check and its insert."""
    login_as()
    r = make_round(phase="collecting")
    other = sa.insert(Proposal).values(round_id=r.id, text="Shade trees",
                                       text_key=text_key("Shade trees"), status="published")
    with committed_first(Proposal, lambda: other) as raced:
        response = client.post(f"/rounds/{r.slug}/propose", data={"text": "Shade trees"},
                               headers=EN)
    assert raced
    assert response.status_code == 409
    assert "already exists" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 1


def test_propose_bad_input(client, login_as, make_round, db) -> None:
    login_as()
    r = make_round(phase="collecting")
    response = client.post(f"/rounds/{r.slug}/propose", data={"text": ""}, headers=EN)
    assert response.status_code == 400 and "Please write your proposal." in response.get_data(
        as_text=True)
    long_text = "x" * 281
    response = client.post(f"/rounds/{r.slug}/propose", data={"text": long_text}, headers=EN)
    assert response.status_code == 400 and "280" in response.get_data(as_text=True)
    assert long_text in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 0


def test_propose_refused_in_voting_phase(client, login_as, make_round, db) -> None:
    login_as()
    r = make_round(phase="voting")
    response = client.post(f"/rounds/{r.slug}/propose", data={"text": "Late idea"}, headers=EN)
    assert response.status_code == 400 and "not accepting proposals" in response.get_data(
        as_text=True)


def test_strict_round_shows_pending_and_rejection_reason(client, login_as, make_round, db) -> None:
    user = login_as()
    r = make_round(moderation_mode="strict")
    response = client.post(f"/rounds/{r.slug}/propose", data={"text": "Wait for me"})
    assert response.headers["Location"].endswith("/mine")
    html = client.get(f"/rounds/{r.slug}/mine", headers=EN).get_data(as_text=True)
    assert "Pending" in html and "Wait for me" in html
    rejected = make_proposal(r, "Rude words", status="rejected", rejection_reason="Insulting",
                             author_id=participant_for(r, user).id)
    html = client.get(f"/rounds/{r.slug}/mine", headers=EN).get_data(as_text=True)
    assert "Rejected" in html and "Insulting" in html
    # pending proposals are visible to the author only
    assert client.get(f"/rounds/{r.slug}/proposals/{rejected.id}").status_code == 200


def test_report_requires_reason_then_saves(client, login_as, make_round, db) -> None:
    login_as()
    r = make_round(phase="voting")
    p = make_proposal(r)
    url = f"/rounds/{r.slug}/proposals/{p.id}/report"
    response = client.post(url, data={"reason": "  "}, headers=EN)
    assert response.status_code == 400 and "Please say why" in response.get_data(as_text=True)
    assert client.post(url, data={"reason": "Insulting"}).status_code == 303
    response = client.post(url, data={"reason": "Again"}, headers=EN)
    assert response.status_code == 409 and "already reported" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 1


def test_a_report_sent_twice_at_once_is_stored_once(client, login_as, make_round, db) -> None:
    """A double click on "report": the other copy passed the "already reported" check and
    committed while this one was between its check and its insert."""
    user = login_as()
    r = make_round(phase="voting")
    p = make_proposal(r)
    other = sa.insert(Report).values(proposal_id=p.id, reporter_id=user.id, reason="Insulting")
    with committed_first(Report, lambda: other) as raced:
        response = client.post(f"/rounds/{r.slug}/proposals/{p.id}/report",
                               data={"reason": "Insulting"}, headers=EN)
    assert raced
    assert response.status_code == 409 and "already reported" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "proposal.report")) == 0


def test_report_needs_login(client, make_round) -> None:
    r = make_round()
    p = make_proposal(r)
    response = client.post(f"/rounds/{r.slug}/proposals/{p.id}/report", data={"reason": "x"})
    assert response.status_code == 303 and "/auth/login" in response.headers["Location"]


def test_results_without_snapshot(client, make_round) -> None:
    r = make_round()
    html = client.get(f"/rounds/{r.slug}/results", headers=EN).get_data(as_text=True)
    assert "No results yet" in html


def test_results_hide_small_groups_and_mark_you(client, login_as, round_with_snapshot, db) -> None:
    round_, _proposals, participants, _snap = round_with_snapshot
    user = login_as()
    participants[0].user_id = user.id
    db.session.commit()
    html = client.get(f"/rounds/{round_.slug}/results", headers=EN).get_data(as_text=True)
    assert "Group 1" in html and "Group 2" in html and "Group 3" not in html
    assert "In groups too small to show" in html and "Not placed yet" not in html
    assert "you are here" in html and "You are in group 1 (the ringed dot)." in html
    assert html.count('class="dot-other"') == 2
    assert "agreement across groups: 72%" in html
    assert "Mostly agree:" in html
    assert "E-citizen" in html and "Resident" in html
    assert "<table" in html and "style=" not in html


def test_results_anonymous(client, round_with_snapshot) -> None:
    round_, *_ = round_with_snapshot
    response = client.get(f"/rounds/{round_.slug}/results", headers=EN)
    assert response.status_code == 200 and "you are here" not in response.get_data(as_text=True)


def test_round_page_lists_agenda(client, round_with_snapshot, db) -> None:
    from datetime import timedelta

    from deliberation.models import Escalation, OfficialResponse, utcnow

    round_, proposals, *_ = round_with_snapshot
    answered = Escalation(proposal_id=proposals[0].id, round_id=round_.id)
    answered.response = OfficialResponse(status="answered", outcome="adopted",
                                         due_at=utcnow() + timedelta(days=60))
    late = Escalation(proposal_id=proposals[1].id, round_id=round_.id)
    late.response = OfficialResponse(due_at=utcnow() - timedelta(days=1))
    withdrawn = Escalation(proposal_id=proposals[2].id, round_id=round_.id,
                           withdrawn_at=utcnow())
    withdrawn.response = OfficialResponse(due_at=utcnow() + timedelta(days=60))
    db.session.add_all([answered, late, withdrawn])
    db.session.commit()
    html = client.get(f"/rounds/{round_.slug}", headers=EN).get_data(as_text=True)
    agenda = html[html.index('id="agenda-heading"'):]
    assert proposals[0].text in agenda and "Answered: Adopted" in agenda
    assert proposals[1].text in agenda and "Received" in agenda and "Overdue" in agenda
    assert proposals[2].text not in agenda  # withdrawn items stay on the public agenda only
    assert f'href="/agenda/items/{answered.id}"' in agenda


@pytest.mark.slow  # imports and clusters a real Pol.is round
def test_the_overview_lists_the_newest_agenda_items_and_links_to_them_all(runner, client):
    """bg2050 sends 60 proposals to the council: the round's overview listed every one, so on
    a phone what follows them (the open data) came about 19 screens down. It lists the newest
    ten, says how many there are, and links to the round's whole agenda."""
    path = polis_dataset("bg2050-volunteers")
    assert runner.invoke(args=["polis", "import", str(path), "--slug", "bg2050"]).exit_code == 0
    assert runner.invoke(args=["cluster", "run", "bg2050"]).exit_code == 0
    assert runner.invoke(args=["agenda", "arm", "bg2050", "--yes"]).exit_code == 0
    html = client.get("/rounds/bg2050", headers=EN).get_data(as_text=True)
    agenda = html[html.index('id="agenda-heading"'):]
    assert len(re.findall(r'href="/agenda/items/\d+"', agenda)) == 10
    assert "60 proposals from this round are on the council's agenda" in agenda
    assert 'href="/agenda/?round=bg2050"' in agenda
    # the policy agenda has them all, in pages of 20 (it listed every item on one page:
    # 54,000 px on a phone for the four real conversations' 133)
    seen: set[str] = set()
    for number in (1, 2, 3):
        listed = client.get(f"/agenda/?round=bg2050&page={number}", headers=EN).get_data(
            as_text=True)
        on_page = set(re.findall(r'href="/agenda/items/(\d+)"', listed))
        assert len(on_page) == 20 and not on_page & seen
        seen |= on_page
        assert f"Page {number} of 3" in listed and "60 proposals on the agenda" in listed
    assert 'rel="next"' not in listed and 'href="/agenda/?round=bg2050&amp;page=2#agenda-list"' in listed
    japanese = client.get("/rounds/bg2050", headers={"Accept-Language": "ja"}).get_data(
        as_text=True)
    assert "このラウンドから議会の議題になった提案は60件です" in japanese


@pytest.mark.slow  # imports and clusters a real Pol.is round
def test_results_count_the_votes_the_groups_were_drawn_from(runner, client, db):
    """bg2050's results said they were calculated from 14,283 votes, its agenda items that
    the groups were drawn from 13,586: the votes on its 55 rejected statements and its meta
    one count in neither the groups nor the figures, so both pages give the latter."""
    path = polis_dataset("bg2050-volunteers")
    assert runner.invoke(args=["polis", "import", str(path), "--slug", "bg2050"]).exit_code == 0
    assert runner.invoke(args=["cluster", "run", "bg2050"]).exit_code == 0
    counted = db.session.scalar(
        sa.select(sa.func.count()).select_from(Vote)
        .join(Proposal, Proposal.id == Vote.proposal_id)
        .where(Proposal.round.has(slug="bg2050"), Proposal.status == "published",
               Proposal.is_meta.is_(False)))
    assert counted == 13_586
    html = client.get("/rounds/bg2050/results", headers=EN).get_data(as_text=True)
    assert "from 13,586 votes by 126 participants" in html


def test_round_page_links_open_data_only_when_enabled(client, make_round, db) -> None:
    r = make_round()
    link = f'href="/agenda/rounds/{r.slug}/open-data.zip"'
    assert link not in client.get(f"/rounds/{r.slug}", headers=EN).get_data(as_text=True)
    r.open_data_enabled = True
    db.session.commit()
    html = client.get(f"/rounds/{r.slug}", headers=EN).get_data(as_text=True)
    assert link not in html and "It is published when voting has ended" in html
    r.phase = "reflection"
    db.session.commit()
    html = client.get(f"/rounds/{r.slug}", headers=EN).get_data(as_text=True)
    assert link in html and "Download the open data of this round" in html


def test_anonymous_sees_proposals_without_buttons(client, make_round) -> None:
    r = make_round(phase="voting")
    make_proposal(r, "Visible idea")
    make_proposal(r, "Pending idea", status="pending")
    make_participant(r)
    html = client.get(f"/rounds/{r.slug}/proposals", headers=EN).get_data(as_text=True)
    assert "Visible idea" in html and "Pending idea" not in html and 'name="value"' not in html


def test_results_paginate_proposal_bars(client, round_with_snapshot, db, monkeypatch) -> None:
    from app.rounds import routes

    round_, _proposals, *_ = round_with_snapshot
    monkeypatch.setattr(routes, "RESULTS_PER_PAGE", 2)
    html = client.get(f"/rounds/{round_.slug}/results", headers=EN).get_data(as_text=True)
    assert "Page 1 of 2" in html and "page=2" in html
    html = client.get(f"/rounds/{round_.slug}/results?page=99", headers=EN).get_data(as_text=True)
    assert "Page 2 of 2" in html
    assert client.get(f"/rounds/{round_.slug}/results?page=x").status_code == 200


def test_results_from_a_real_snapshot(client, login_as, db) -> None:
    """The pages read what the snapshot service really writes (not only test fixtures)."""
    from deliberation.demo import seed_synthetic_round
    from deliberation.jobs.runner import refresh_and_escalate

    round_ = seed_synthetic_round("real-snapshot", participants_per_group=15)
    refresh_and_escalate(round_.id)
    html = client.get("/rounds/real-snapshot/results", headers=EN).get_data(as_text=True)
    assert "Group 1" in html and "Group 2" in html and "Mostly" in html
    assert "agreement across groups" in html
    html = client.get("/rounds/real-snapshot", headers=EN).get_data(as_text=True)
    assert "45 participants" in html
    login_as()
    assert client.get("/rounds/real-snapshot/vote", headers=EN).status_code == 200


def test_htmx_votes_are_stored_once_each_and_the_card_moves_on(client, login_as, make_round,
                                                               db) -> None:
    login_as()
    r = make_round(phase="voting")
    first, second = make_proposal(r, "First idea"), make_proposal(r, "Second idea")
    url = f"/rounds/{r.slug}/vote"
    response = client.post(url, headers=HX, data={"proposal_id": first.id, "value": "1"})
    assert response.status_code == 200 and "Your vote was saved." in response.text
    assert "Second idea" in response.text and "First idea" not in response.text
    response = client.post(url, headers=HX, data={"proposal_id": second.id, "value": "-1"})
    assert "You have voted on every proposal" in response.text
    response = client.post(url, headers=HX, data={"proposal_id": first.id, "value": "0"})
    assert "Your vote was saved." in response.text  # a change of mind: the last vote wins
    db.session.remove()
    assert dict(db.session.execute(sa.select(Vote.proposal_id, Vote.value)).all()) == {
        first.id: 0, second.id: -1}
    events = db.session.execute(sa.select(VoteEvent.proposal_id, VoteEvent.value,
                                          VoteEvent.source).order_by(VoteEvent.id)).all()
    assert [tuple(e) for e in events] == [(first.id, 1, "web"), (second.id, -1, "web"),
                                          (first.id, 0, "web")]


def test_vote_counts_for_the_account_logged_in_by_remember_me(app, db, make_round) -> None:
    """A session naming an account that no longer logs in (its nonce changed) falls back to
    a remember-me cookie of another account: the vote is that other account's."""
    from tests import factories

    r = make_round(phase="voting")
    proposal = make_proposal(r, "An idea")
    stale = factories.make_user(email="stale@example.org")
    participant_for(r, stale)  # the stale account has a participant in the round
    device = app.test_client()
    response = device.post("/auth/login", data={"email": factories.make_user(
        email="remembered@example.org").email, "password": factories.PASSWORD, "remember": "y"})
    assert response.status_code == 303 and device.get_cookie("remember_token") is not None
    factories.log_in(device, f"{stale.id}:not-the-nonce")
    response = device.post(f"/rounds/{r.slug}/vote", headers=HX,
                           data={"proposal_id": proposal.id, "value": "-1"})
    assert response.status_code == 200 and "Your vote was saved." in response.text
    db.session.remove()
    voters = db.session.execute(sa.select(Participant.user_id, Vote.value).join(
        Vote, Vote.participant_id == Participant.id)).all()
    assert [(row.user_id, row.value) for row in voters] == [
        (db.session.scalar(sa.select(User.id).where(User.email == "remembered@example.org")), -1)]


def test_results_tell_not_placed_from_small_groups(client, round_with_snapshot, db) -> None:
    from deliberation.models import ClusterSnapshot, SnapshotMembership

    round_, _, _, snap = round_with_snapshot
    # six people with too few votes to be placed: members of the snapshot without a group
    for i in range(6):
        newcomer = make_participant(round_)
        db.session.add(SnapshotMembership(snapshot_id=snap.id, participant_id=newcomer.id,
                                          x=5.0 + i, y=0.0, group_id=None))
    db.session.get(ClusterSnapshot, snap.id).n_participants += 6
    db.session.commit()
    html = client.get(f"/rounds/{round_.slug}/results", headers=EN).get_data(as_text=True)
    assert html.count('class="dot-unplaced"') == 6 and html.count('class="dot-other"') == 2
    table = html[html.index("<caption>Opinion groups</caption>"):]
    assert 'Too few votes to be placed</td><td class="num">6</td>' in table
    assert 'In groups too small to show</td><td class="num">fewer than 5</td>' in table
    ja = client.get(f"/rounds/{round_.slug}/results",
                    headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "まだ位置が決まっていない人（投票数が足りない）" in ja
    # the table names them as the explanation above it and the map's legend do
    assert '<th scope="row">まだ位置が決まっていない人</th>' in ja
    api = client.get(f"/api/v1/rounds/{round_.slug}/results").get_json()["snapshot"]
    assert api["unplaced"] == 6 and api["in_small_groups"] is None


def test_a_proposal_in_a_right_to_left_script_keeps_its_own_direction(client, login_as,
                                                                     make_round) -> None:
    """Arabic or Hebrew reads right to left inside a Japanese page, without turning the
    page's own text and punctuation around it."""
    login_as()
    r = make_round(phase="voting")
    text = "نريد مكتبة مفتوحة في المساء"
    make_proposal(r, text)
    card = client.get(f"/rounds/{r.slug}/vote").get_data(as_text=True)
    assert f'dir="auto">{text}</blockquote>' in card
    listed = client.get(f"/rounds/{r.slug}/proposals").get_data(as_text=True)
    assert 'class="link-row" dir="auto"><a' in listed and text in listed


def test_a_proposal_page_is_titled_by_the_proposal(client, make_round) -> None:
    """Several proposals open in tabs, or in the history, can be told apart."""
    r = make_round(phase="voting", title="Town plan")
    short = make_proposal(r, "More benches")
    long = make_proposal(r, "A covered bicycle park by the station " * 5)
    html = client.get(f"/rounds/{r.slug}/proposals/{short.id}", headers=EN).get_data(as_text=True)
    assert "<title>Proposal: More benches · Town plan ·" in html
    html = client.get(f"/rounds/{r.slug}/proposals/{long.id}", headers=EN).get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", html).group(1)
    assert title.startswith("Proposal: A covered bicycle park by") and "… · Town plan" in title
