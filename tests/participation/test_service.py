"""The participation services: eligibility, votes, proposals, reports, card routing."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
import sqlalchemy as sa

from deliberation.errors import Conflict, DomainError, NotAllowed, NotFound
from deliberation.models import (
    AuditEntry,
    ClusteringJob,
    ClusterSnapshot,
    Participant,
    Proposal,
    Vote,
    VoteEvent,
    utcnow,
)
from deliberation.models.snapshot import latest_snapshot
from deliberation.services import votes
from deliberation.services.health import pending_since
from deliberation.services.participants import participant_for
from deliberation.services.proposals import proposals_by, submit_proposal
from deliberation.services.reports import report_proposal
from deliberation.services.snapshot_requests import request_snapshot
from deliberation.services.vote_card import VoteCard, vote_card
from deliberation.services.votes import author_auto_vote, votes_of
from tests.factories import add_vote, make_participant, make_proposal


@pytest.fixture()
def round_(make_round):
    return make_round(phase="collecting")


def _count(db, model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


# ---------------------------------------------------------------- participant_for

def test_participant_created_once_with_users_kind(db, round_, make_user) -> None:
    user = make_user(kind="e_citizen")
    first = participant_for(round_, user)
    second = participant_for(round_, user)
    assert first is not None and first.id == second.id
    assert first.kind == "e_citizen" and first.source == "account"
    assert _count(db, Participant) == 1


def test_participant_not_created_when_create_false(db, round_, make_user) -> None:
    assert participant_for(round_, make_user(), create=False) is None
    assert participant_for(round_, None) is None


def test_residents_only_round_refuses_e_citizens(db, make_round, make_user) -> None:
    r = make_round(eligibility="residents")
    with pytest.raises(NotAllowed, match="residents"):
        participant_for(r, make_user(kind="e_citizen"))
    assert participant_for(r, make_user(kind="resident")) is not None


def test_verified_only_round(db, make_round, make_user) -> None:
    r = make_round(eligibility="verified")
    with pytest.raises(NotAllowed, match="verified"):
        participant_for(r, make_user())
    assert participant_for(r, make_user(is_verified=True)) is not None


def test_draft_round_refuses_participants(db, make_round, make_user) -> None:
    with pytest.raises(NotAllowed):
        participant_for(make_round(phase="draft"), make_user())


# ---------------------------------------------------------------- votes.cast

def test_vote_upsert_last_change_wins(db, round_, make_user) -> None:
    p = make_proposal(round_)
    participant = participant_for(round_, make_user())
    vote = votes.cast(round_, participant.user, participant, p.id, 1)
    assert vote.value == 1
    vote = votes.cast(round_, participant.user, participant, str(p.id), "-1")
    assert vote.value == -1
    assert _count(db, Vote) == 1
    assert _count(db, VoteEvent) == 2
    # one person's new votes: the runner waits for more voters before a new snapshot
    assert pending_since(round_.id) is None


def test_the_same_answer_again_is_not_another_vote(db, round_, make_user) -> None:
    """A double tap or a resent form: the vote stands, no second event (the dashboard's
    votes per day, the open data's votes.csv), and a change after it is logged."""
    p = make_proposal(round_)
    participant = participant_for(round_, make_user())
    first = votes.cast(round_, participant.user, participant, p.id, 1)
    again = votes.cast(round_, participant.user, participant, p.id, "1")
    assert (first.value, again.value) == (1, 1)
    assert _count(db, Vote) == 1 and _count(db, VoteEvent) == 1
    votes.cast(round_, participant.user, participant, p.id, 0)
    assert _count(db, VoteEvent) == 2
    assert db.session.scalar(sa.select(Vote.value)) == 0


def test_the_same_answer_on_a_hidden_proposal_is_refused(db, round_, make_user) -> None:
    p = make_proposal(round_)
    participant = participant_for(round_, make_user())
    votes.cast(round_, participant.user, participant, p.id, 1)
    p.status = "hidden"
    db.session.commit()
    with pytest.raises(DomainError):
        votes.cast(round_, participant.user, participant, p.id, 1)
    assert _count(db, VoteEvent) == 1


def test_vote_keeps_existing_snapshot_request(db, round_, make_user) -> None:
    earlier = utcnow() - timedelta(minutes=5)
    request_snapshot(round_)
    db.session.get(ClusteringJob, round_.id).requested_at = earlier
    db.session.commit()
    p = make_proposal(round_)
    user = make_user()
    votes.cast(round_, user, participant_for(round_, user), p.id, 0)
    assert pending_since(round_.id) == earlier


@pytest.mark.parametrize("value", [2, -2, "yes", "", None, "1.0", True, 0.5])
def test_vote_bad_values(db, round_, make_user, value) -> None:
    p = make_proposal(round_)
    participant = participant_for(round_, make_user())
    with pytest.raises(DomainError, match="agree"):
        votes.cast(round_, participant.user, participant, p.id, value)
    assert _count(db, Vote) == 0 and _count(db, VoteEvent) == 0


def test_vote_on_other_rounds_proposal_is_not_found(db, round_, make_round, make_user) -> None:
    other = make_proposal(make_round())
    participant = participant_for(round_, make_user())
    with pytest.raises(NotFound):
        votes.cast(round_, participant.user, participant, other.id, 1)
    with pytest.raises(NotFound):
        votes.cast(round_, participant.user, participant, 999999, 1)
    with pytest.raises(NotFound):
        votes.cast(round_, participant.user, participant, "abc", 1)
    with pytest.raises(NotFound):
        votes.cast(round_, participant.user, participant, True, 1)
    assert _count(db, Vote) == 0 and _count(db, VoteEvent) == 0


@pytest.mark.parametrize("status", ["pending", "hidden", "rejected"])
def test_vote_on_unpublished_proposal_refused(db, round_, make_user, status) -> None:
    p = make_proposal(round_, status=status)
    participant = participant_for(round_, make_user())
    with pytest.raises(DomainError, match="not open for voting"):
        votes.cast(round_, participant.user, participant, p.id, 1)


def test_vote_checks_the_proposal_as_the_database_has_it(db, round_, make_user) -> None:
    """A proposal hidden by someone else after this request loaded it takes no vote."""
    p = make_proposal(round_)
    participant = participant_for(round_, make_user())
    assert db.session.get(Proposal, p.id).status == "published"  # loaded in this session
    db.session.execute(sa.update(Proposal).where(Proposal.id == p.id).values(status="hidden")
                       .execution_options(synchronize_session=False))
    with pytest.raises(DomainError):
        votes.cast(round_, participant.user, participant, p.id, 1)
    assert _count(db, Vote) == 0 and _count(db, VoteEvent) == 0


@pytest.mark.parametrize("phase,message", [("closed", "closed for voting"),
                                           ("reflection", "reflection")])
def test_vote_in_closed_round_refused(db, round_, make_user, phase, message) -> None:
    p = make_proposal(round_)
    participant = participant_for(round_, make_user())
    round_.phase = phase
    db.session.commit()
    with pytest.raises(DomainError, match=message):
        votes.cast(round_, participant.user, participant, p.id, 1)
    assert _count(db, Vote) == 0


def test_vote_with_participant_of_other_round(db, round_, make_round, make_user) -> None:
    p = make_proposal(round_)
    user = make_user()
    elsewhere = participant_for(make_round(), user)
    with pytest.raises(ValueError):  # a caller's mistake, not the voter's
        votes.cast(round_, user, elsewhere, p.id, 1)
    assert _count(db, Vote) == 0


# ---------------------------------------------------------------- submit_proposal

def test_open_round_publishes_and_author_agrees(db, round_, make_user) -> None:
    user = make_user()
    proposal = submit_proposal(round_, user, "  More benches\u202e in the park  ")
    assert proposal.status == "published"
    assert proposal.text == "More benches in the park"
    vote = db.session.scalar(sa.select(Vote).where(Vote.proposal_id == proposal.id))
    assert vote.value == 1 and vote.participant_id == proposal.author_id
    assert pending_since(round_.id) is not None
    assert db.session.scalar(sa.select(AuditEntry.action)) == "proposal.submit"


def test_strict_round_holds_proposal_pending(db, make_round, make_user) -> None:
    r = make_round(moderation_mode="strict")
    proposal = submit_proposal(r, make_user(), "A quiet library room")
    assert proposal.status == "pending"
    assert _count(db, Vote) == 0
    # approval later: the moderation code publishes and calls the helper
    proposal.status = "published"
    author_auto_vote(proposal)
    author_auto_vote(proposal)  # idempotent
    db.session.commit()
    assert _count(db, Vote) == 1


@pytest.mark.parametrize("text", ["", "   ", "\u202e\u200b", None, 42, "!!!"])
def test_empty_proposal_refused(db, round_, make_user, text) -> None:
    with pytest.raises(DomainError):
        submit_proposal(round_, make_user(), text)
    assert _count(db, Proposal) == 0


def test_too_long_proposal_refused(db, round_, make_user) -> None:
    user = make_user()
    with pytest.raises(DomainError, match="280"):
        submit_proposal(round_, user, "あ" * 281)
    assert submit_proposal(round_, user, "あ" * 280).status == "published"


def test_duplicate_refused_with_existing_id(db, round_, make_user) -> None:
    first = submit_proposal(round_, make_user(), "Free Wi-Fi at the station")
    with pytest.raises(Conflict) as caught:
        submit_proposal(round_, make_user(), "  FREE Wi-Fi at the station!! ")
    assert caught.value.context["proposal_id"] == first.id
    assert _count(db, Proposal) == 1


def test_rejected_proposal_does_not_block_resubmission(db, round_, make_user) -> None:
    make_proposal(round_, "Same text", status="rejected")
    assert submit_proposal(round_, make_user(), "Same text").status == "published"


def test_proposal_refused_outside_collecting(db, make_round, make_user) -> None:
    r = make_round(phase="voting")
    with pytest.raises(DomainError, match="not accepting proposals"):
        submit_proposal(r, make_user(), "Something")


def test_proposal_refused_for_ineligible_user(db, make_round, make_user) -> None:
    r = make_round(eligibility="verified")
    with pytest.raises(NotAllowed):
        submit_proposal(r, make_user(), "Something")
    assert _count(db, Proposal) == 0


def test_proposals_by(db, round_, make_user) -> None:
    user = make_user()
    assert proposals_by(round_, user) == []
    p = submit_proposal(round_, user, "Mine")
    make_proposal(round_, "Not mine")
    assert [x.id for x in proposals_by(round_, user)] == [p.id]


# ---------------------------------------------------------------- report_proposal

def test_report_requires_reason(db, round_, make_user) -> None:
    p = make_proposal(round_)
    for reason in ("", "   ", None):
        with pytest.raises(DomainError, match="why"):
            report_proposal(p, make_user(), reason)
    assert p.report_count == 0


def test_a_report_reason_over_the_limit_is_refused_in_words(app, db, round_, make_user) -> None:
    from app.errors import translate
    from deliberation.services.reports import MAX_REASON_LENGTH

    p = make_proposal(round_)
    report_proposal(p, make_user(), "x" * MAX_REASON_LENGTH)
    with pytest.raises(DomainError) as refused:
        report_proposal(p, make_user(), "x" * (MAX_REASON_LENGTH + 1))
    with app.test_request_context(headers={"Accept-Language": "ja"}):
        assert translate(refused.value) == "理由は1000文字以内で入力してください。"
    db.session.refresh(p)
    assert p.report_count == 1


def test_report_once_per_user(db, round_, make_user) -> None:
    p = make_proposal(round_)
    user = make_user()
    report_proposal(p, user, "Insulting")
    with pytest.raises(Conflict):
        report_proposal(p, user, "Again")
    assert p.report_count == 1


def test_report_threshold_hides(db, make_round, make_user) -> None:
    r = make_round(report_threshold=2)
    p = make_proposal(r)

    def confirmed_voter():
        user = make_user(verification_level="email", email_confirmed_at=utcnow(),
                         created_at=utcnow() - timedelta(days=2))
        add_vote(make_participant(r, user), p, -1)
        return user

    report_proposal(p, confirmed_voter(), "spam")
    assert p.status == "published"
    report_proposal(p, confirmed_voter(), "spam")
    assert p.status == "hidden" and p.report_count == 2
    assert pending_since(r.id) is not None
    actions = db.session.scalars(sa.select(AuditEntry.action)).all()
    assert actions.count("proposal.report") == 2


def test_report_of_pending_proposal_not_found(db, round_, make_user) -> None:
    p = make_proposal(round_, status="pending")
    with pytest.raises(NotFound):
        report_proposal(p, make_user(), "bad")


# ---------------------------------------------------------------- vote_card (routing)

def test_next_skips_voted_and_unpublished(db, round_, make_user) -> None:
    a = make_proposal(round_)
    b = make_proposal(round_)
    make_proposal(round_, status="pending")
    participant = participant_for(round_, make_user())
    votes.cast(round_, participant.user, participant, a.id, 1)
    card = vote_card(round_, participant, rng=random.Random(1))
    assert (card.proposal.id, card.proposal.text) == (b.id, b.text)
    votes.cast(round_, participant.user, participant, b.id, 0)
    assert vote_card(round_, participant).proposal is None


def test_vote_card_counts_votes_on_published_proposals(db, round_, make_user) -> None:
    a, b, c = make_proposal(round_), make_proposal(round_), make_proposal(round_)
    participant = participant_for(round_, make_user())
    assert vote_card(round_, participant).voted == 0
    votes.cast(round_, participant.user, participant, a.id, 1)
    votes.cast(round_, participant.user, participant, b.id, -1)
    card = vote_card(round_, participant)
    assert card.voted == 2 and card.proposal is not None and card.proposal.id == c.id
    b.status = "hidden"  # hidden after the vote: no longer counted, never shown
    db.session.commit()
    assert vote_card(round_, participant).voted == 1
    anonymous = vote_card(round_, None, rng=random.Random(2))
    assert anonymous.voted == 0 and anonymous.proposal is not None
    assert anonymous.proposal.id in {a.id, c.id}


def test_the_next_card_counts_the_vote_just_cast(db, round_, make_user) -> None:
    a, b = make_proposal(round_), make_proposal(round_)
    participant = participant_for(round_, make_user())
    votes.cast(round_, participant.user, participant, a.id, -1)
    card = vote_card(round_, participant)
    assert card.voted == 1 and card.proposal is not None and card.proposal.id == b.id
    assert votes_of(participant) == {a.id: -1} and _count(db, VoteEvent) == 1
    votes.cast(round_, participant.user, participant, b.id, 0)
    assert vote_card(round_, participant) == VoteCard(None, 2)
    with pytest.raises(DomainError, match="agree"):
        votes.cast(round_, participant.user, participant, a.id, 5)
    with pytest.raises(NotFound):
        votes.cast(round_, participant.user, participant, 10**9, 1)
    with pytest.raises(NotFound):
        votes.cast(round_, participant.user, participant, 2**70, 1)
    assert votes_of(participant) == {a.id: -1, b.id: 0} and _count(db, VoteEvent) == 2
    saved = votes.cast(round_, participant.user, participant, a.id, 1)  # a change of mind
    assert (saved.proposal_id, saved.value) == (a.id, 1)
    assert vote_card(round_, participant) == VoteCard(None, 2) and _count(db, VoteEvent) == 3
    assert votes_of(participant) == {a.id: 1, b.id: 0}


def test_votes_on_unpublished_proposals_store_nothing(db, round_, make_round,
                                                      make_user) -> None:
    published = make_proposal(round_)
    hidden = make_proposal(round_, status="hidden")
    participant = participant_for(round_, make_user())
    with pytest.raises(DomainError, match="not open for voting"):
        votes.cast(round_, participant.user, participant, hidden.id, 1)
    elsewhere = make_proposal(make_round(phase="voting"))
    with pytest.raises(NotFound):  # a proposal of another round
        votes.cast(round_, participant.user, participant, elsewhere.id, 1)
    empty = make_round(phase="voting")
    pending = make_proposal(empty, status="pending")
    voter = participant_for(empty, make_user())
    with pytest.raises(DomainError, match="not open for voting"):  # no published ones at all
        votes.cast(empty, voter.user, voter, pending.id, 1)
    assert _count(db, Vote) == 0 and _count(db, VoteEvent) == 0
    votes.cast(round_, participant.user, participant, published.id, 1)
    assert vote_card(round_, participant) == VoteCard(None, 1)


def test_next_is_deterministic_with_rng(db, round_, make_user) -> None:
    for _ in range(5):
        make_proposal(round_)
    participant = participant_for(round_, make_user())
    picks = [vote_card(round_, participant, rng=random.Random(3)).proposal.id
             for _ in range(3)]
    assert len(set(picks)) == 1


def test_next_follows_snapshot_priorities(db, round_, make_user) -> None:
    a = make_proposal(round_, created_at=utcnow() - timedelta(hours=1))
    b = make_proposal(round_, created_at=utcnow() - timedelta(hours=1))
    db.session.add(ClusterSnapshot(round_id=round_.id, method="pca",
                                   statistics={"priorities": {str(a.id): 0.0,
                                                              str(b.id): 5.0}}))
    db.session.commit()
    participant = participant_for(round_, make_user())
    rng = random.Random(0)
    picks = {vote_card(round_, participant, rng=rng).proposal.id for _ in range(30)}
    assert picks == {b.id}


def test_a_newer_snapshot_changes_the_weights_at_once(db, round_, make_user) -> None:
    a = make_proposal(round_, created_at=utcnow() - timedelta(hours=1))
    b = make_proposal(round_, created_at=utcnow() - timedelta(hours=1))
    db.session.add(ClusterSnapshot(round_id=round_.id, method="pca",
                                   created_at=utcnow() - timedelta(minutes=30),
                                   statistics={"priorities": {str(a.id): 0.0, str(b.id): 1.0}}))
    db.session.commit()
    participant = participant_for(round_, make_user())
    rng = random.Random(0)
    assert {vote_card(round_, participant, rng=rng).proposal.id for _ in range(10)} == {b.id}
    # A newer snapshot's priorities take over at once (the weights are cached per snapshot).
    db.session.add(ClusterSnapshot(round_id=round_.id, method="pca",
                                   statistics={"priorities": {str(a.id): 1.0, str(b.id): 0.0}}))
    db.session.commit()
    assert {vote_card(round_, participant, rng=rng).proposal.id for _ in range(10)} == {a.id}


def test_next_boosts_proposals_newer_than_snapshot(db, round_, make_user) -> None:
    old = make_proposal(round_, created_at=utcnow() - timedelta(hours=2))
    db.session.add(ClusterSnapshot(round_id=round_.id, method="pca",
                                   created_at=utcnow() - timedelta(hours=1),
                                   statistics={"priorities": {str(old.id): "nonsense"}}))
    db.session.commit()
    new = make_proposal(round_)
    participant = participant_for(round_, make_user())
    rng = random.Random(0)
    picks = [vote_card(round_, participant, rng=rng).proposal.id for _ in range(400)]
    assert picks.count(new.id) > picks.count(old.id) * 2


def test_next_ignores_failed_snapshots(db, round_, make_user) -> None:
    a = make_proposal(round_)
    db.session.add(ClusterSnapshot(round_id=round_.id, method="pca", status="failed",
                                   statistics={"priorities": {str(a.id): 0}}))
    db.session.commit()
    assert latest_snapshot(round_.id) is None
    assert vote_card(round_, None).proposal.id == a.id


def test_concurrent_votes_keep_one_row(app, db, round_, make_user) -> None:
    import threading

    from deliberation.database import db as _db
    from deliberation.models import Round

    p = make_proposal(round_)
    participant = participant_for(round_, make_user())
    ids = (round_.id, participant.id, p.id)
    failures: list[BaseException] = []

    def worker(value: int) -> None:
        try:
            with app.app_context():
                r = _db.session.get(Round, ids[0])
                part = _db.session.get(Participant, ids[1])
                for _ in range(3):
                    votes.cast(r, part.user, part, ids[2], value)
                _db.session.remove()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(v,)) for v in (1, -1, 0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not failures
    db.session.expire_all()
    assert _count(db, Vote) == 1
    # Each change is logged once (a repeat of the standing answer is not): the newest
    # event is the vote that stands.
    assert 1 <= _count(db, VoteEvent) <= 12
    newest = db.session.scalar(sa.select(VoteEvent.value).order_by(VoteEvent.id.desc()))
    assert newest == db.session.scalar(sa.select(Vote.value))


def test_approval_makes_author_agree(db, make_round, make_user) -> None:
    from deliberation.services import moderation

    r = make_round(moderation_mode="strict")
    proposal = submit_proposal(r, make_user(), "Wait for approval")
    assert _count(db, Vote) == 0
    moderation.moderate(r, [proposal.id], "approve", actor=make_user(role="facilitator"))
    vote = db.session.scalar(sa.select(Vote))
    assert vote.value == 1 and vote.participant_id == proposal.author_id
