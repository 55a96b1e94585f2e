"""Reports count once per mailbox: the addresses one mailbox answers to (hanako+1@,
hanako+2@ ... and, at Gmail, h.anako@) are one person's, so a campaign cannot confirm a
dozen accounts through one inbox, let them age a day, vote once and report a popular
proposal out of sight. Residents the town verified count as before."""

from __future__ import annotations

from datetime import timedelta

import pytest

from deliberation.models import utcnow
from deliberation.services import reports
from tests.factories import add_vote, make_participant, make_proposal, make_user


def _reporter(round_, email: str, voted_on, **extra):
    user = make_user(email=email, email_confirmed_at=utcnow(), verification_level="email",
                     created_at=utcnow() - timedelta(days=2), **extra)
    add_vote(make_participant(round_, user), voted_on, -1)
    return user


@pytest.mark.parametrize("addresses", [
    ["hanako+1@example.org", "hanako+2@example.org", "hanako+town@example.org",
     "hanako@example.org"],
    ["ha.nako@gmail.com", "h.a.nako+x@gmail.com", "hanako@googlemail.com", "HaNaKo@gmail.com"],
])
def test_accounts_of_one_mailbox_count_as_one_report(make_round, db, addresses) -> None:
    round_ = make_round(phase="voting", report_threshold=2, report_support_step=0)
    target = make_proposal(round_, "Benches at the station")
    other = make_proposal(round_, "Other")
    for address in addresses:
        reports.report_proposal(target, _reporter(round_, address, other), "x")
    db.session.refresh(target)
    assert target.report_count == 4 and target.status == "published"
    assert reports.counting_reports(target, round_) == 1
    reports.report_proposal(target, _reporter(round_, "taro@example.org", other), "x")
    db.session.refresh(target)
    assert target.status == "hidden"  # two people


def test_dots_count_apart_where_they_are_different_mailboxes(make_round, db) -> None:
    round_ = make_round(phase="voting", report_threshold=2, report_support_step=0)
    target = make_proposal(round_, "Benches at the station")
    other = make_proposal(round_, "Other")
    for address in ("ha.nako@example.org", "hanako@example.org"):
        reports.report_proposal(target, _reporter(round_, address, other), "x")
    db.session.refresh(target)
    assert target.status == "hidden"


def test_verified_residents_each_count(make_round, db) -> None:
    round_ = make_round(phase="voting", report_threshold=2, report_support_step=0)
    target = make_proposal(round_, "Benches at the station")
    other = make_proposal(round_, "Other")
    for address in ("hanako+1@example.org", "hanako+2@example.org"):
        user = _reporter(round_, address, other)
        user.verification_level, user.is_verified = "resident_verified", True
        db.session.commit()
        reports.report_proposal(target, user, "x")
    db.session.refresh(target)
    assert target.status == "hidden"
