"""Reports that cannot bury a proposal: only confirmed accounts that voted in the round
count, the threshold grows with support, a hidden page says "under review", and the
facilitator restores it in one click."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from deliberation.models import ClusterSnapshot, Participant, Proposal, utcnow
from deliberation.services import reports
from tests.factories import (
    add_vote,
    log_in,
    make_participant,
    make_proposal,
    make_user,
)


def reporter(round_, *, confirmed: bool = True, voted_on=None, age=timedelta(days=2)):
    user = make_user(email_confirmed_at=utcnow() if confirmed else None,
                     verification_level="email" if confirmed else "unverified",
                     created_at=utcnow() - age)
    if voted_on is not None:
        add_vote(make_participant(round_, user), voted_on, -1)
    return user


def test_needed_grows_with_agree_votes() -> None:
    assert reports.reports_needed(3, 0, 10) == 3
    assert reports.reports_needed(3, 651, 10) == 68
    assert reports.reports_needed(3, 651, 0) == 3


def test_fresh_accounts_cannot_hide_a_proposal(make_round, db) -> None:
    round_ = make_round(phase="voting", report_threshold=3)
    target = make_proposal(round_, "Benches at the station")
    other = make_proposal(round_, "Other")
    for _ in range(5):  # unconfirmed, voted
        reports.report_proposal(target, reporter(round_, confirmed=False, voted_on=other), "x")
    for _ in range(5):  # confirmed, never voted in the round
        reports.report_proposal(target, reporter(round_), "x")
    db.session.refresh(target)
    assert target.status == "published" and target.report_count == 10
    for _ in range(3):  # confirmed participants: these count
        reports.report_proposal(target, reporter(round_, voted_on=other), "x")
    db.session.refresh(target)
    assert target.status == "hidden"


def test_new_accounts_and_flagged_blocks_cannot_hide_a_proposal(make_round, db) -> None:
    """Confirmed accounts that voted, but were created in the last day or belong to a block
    the latest snapshot flagged, hide nothing; verified residents count at once."""
    round_ = make_round(phase="voting", report_threshold=3)
    target = make_proposal(round_, "Benches at the station")
    other = make_proposal(round_, "Other")
    for _ in range(5):  # confirmed, voted, an hour old
        reports.report_proposal(target, reporter(round_, voted_on=other,
                                                 age=timedelta(hours=1)), "x")
    flagged = []
    for _ in range(5):  # confirmed, voted, old, but a flagged coordinated block
        user = reporter(round_, voted_on=other)
        flagged.append(user)
    participant_ids = list(db.session.scalars(sa.select(Participant.id).where(
        Participant.user_id.in_([u.id for u in flagged]))))
    db.session.add(ClusterSnapshot(round_id=round_.id, method="pca", status="ok", statistics={
        "coordinated_blocks": [{"participant_ids": participant_ids, "size": 5}]}))
    db.session.commit()
    for user in flagged:
        reports.report_proposal(target, user, "x")
    db.session.refresh(target)
    assert target.status == "published" and target.report_count == 10
    for _ in range(3):  # verified residents who voted, created a minute ago: these count
        user = make_user(email_confirmed_at=utcnow(), verification_level="resident_verified",
                         is_verified=True)
        add_vote(make_participant(round_, user), other, 1)
        reports.report_proposal(target, user, "x")
    db.session.refresh(target)
    assert target.status == "hidden"


def test_support_raises_the_bar(make_round, db) -> None:
    round_ = make_round(phase="voting", report_threshold=3, report_support_step=10)
    target = make_proposal(round_, "Popular")
    for _ in range(20):  # 20 agree votes: 3 + 2 counting reports needed
        add_vote(make_participant(round_, make_user()), target, 1)
    for _ in range(4):
        reports.report_proposal(target, reporter(round_, voted_on=target), "x")
    db.session.refresh(target)
    assert target.status == "published"
    reports.report_proposal(target, reporter(round_, voted_on=target), "x")
    db.session.refresh(target)
    assert target.status == "hidden"


def test_hidden_page_says_under_review_and_restore_is_one_click(client, login_as, make_round,
                                                                db) -> None:
    round_ = make_round(phase="voting")
    hidden = make_proposal(round_, "Secret text", status="hidden")
    make_proposal(round_, "Older pending", status="pending")
    page = client.get(f"/rounds/{round_.slug}/proposals/{hidden.id}",
                      headers={"Accept-Language": "ja"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Secret text" not in text and "ファシリテーター" in text
    login_as("facilitator")
    queue = client.get(f"/facilitate/rounds/{round_.slug}/moderation").get_data(as_text=True)
    assert queue.index("Secret text") < queue.index("Older pending")  # hidden first
    response = client.post(f"/facilitate/rounds/{round_.slug}/moderation",
                           data={"restore": str(hidden.id)})
    assert response.status_code == 303
    assert db.session.scalar(sa.select(Proposal.status).where(Proposal.id == hidden.id)) \
        == "published"


def test_three_new_confirmed_accounts_cannot_hide_a_popular_proposal(app, make_round,
                                                                     db) -> None:
    """Through the pages: three accounts registered and confirmed a minute ago, that never
    voted, report a proposal with 60 agree votes; it stays public."""
    round_ = make_round(phase="voting", report_threshold=3)
    popular = make_proposal(round_, "Benches at the station")
    for _ in range(60):
        add_vote(make_participant(round_, make_user()), popular, 1)
    for n in range(3):
        user = make_user(email=f"fresh{n}@example.net", email_confirmed_at=utcnow(),
                         verification_level="email")
        client = app.test_client()
        log_in(client, user)
        response = client.post(f"/rounds/{round_.slug}/proposals/{popular.id}/report",
                               data={"reason": "spam"})
        assert response.status_code == 303
    db.session.refresh(popular)
    assert popular.report_count == 3 and popular.status == "published"
    assert app.test_client().get(f"/rounds/{round_.slug}/proposals/{popular.id}").status_code \
        == 200


def test_hidden_page_under_review_in_both_languages(client, make_round, db) -> None:
    round_ = make_round(phase="voting")
    hidden = make_proposal(round_, "Secret text", status="hidden")
    for language, title in (("ja", "確認中の提案"), ("en", "Proposal under review")):
        page = client.get(f"/rounds/{round_.slug}/proposals/{hidden.id}",
                          headers={"Accept-Language": language})
        text = page.get_data(as_text=True)
        assert page.status_code == 200 and title in text and "Secret text" not in text
        assert f'lang="{language}"' in text


def test_restore_with_htmx_swaps_the_queue(client, login_as, make_round, db) -> None:
    round_ = make_round(phase="voting")
    hidden = make_proposal(round_, "Reported text", status="hidden")
    login_as("facilitator")
    response = client.post(f"/facilitate/rounds/{round_.slug}/moderation",
                           data={"restore": str(hidden.id)},
                           headers={"HX-Request": "true", "Accept-Language": "en"},
                           follow_redirects=True)
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in text  # the queue fragment
    assert "Restore this proposal" not in text
    assert db.session.scalar(sa.select(Proposal.status).where(Proposal.id == hidden.id)) \
        == "published"
